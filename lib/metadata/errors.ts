// Errors apply() throws: each rolls back only its own command, and reaches only its submitter.

export class PreconditionError extends Error {
  /** 'failed' → 412 PreconditionFailed; 'missing' → the If-Match target does not exist. */
  readonly reason: 'failed' | 'missing';
  constructor(reason: 'failed' | 'missing') {
    super(`precondition ${reason}`);
    this.reason = reason;
  }
}

export class CredentialError extends Error {
  /** invalid: a bad request; missing: no such key; exists: the id is taken. */
  readonly kind: 'invalid' | 'missing' | 'exists';
  constructor(message: string, kind: 'invalid' | 'missing' | 'exists' = 'invalid') {
    super(message);
    this.name = 'CredentialError';
    this.kind = kind;
  }
}

/** A version Object Lock protects (retention or legal hold): 403 AccessDenied, nothing changed. */
export class LockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LockedError';
  }
}
