// Errors a command's apply throws, carried from the writer (main thread) back to the serving
// thread that submitted it, and in a cluster from the leader back to the node that handed it
// the command: structured clone (and JSON) keep only an Error's message, and the handlers
// branch on the class and its fields (S3Error's code, PreconditionError's reason, ...).
import { S3Error, type S3ErrorCode } from '../s3/errors.ts';
import { CredentialError, LockedError, PreconditionError } from '../metadata/errors.ts';

export interface WireError {
  name: string;
  message: string;
  code?: string;
  extra?: Record<string, string>;
  headers?: Record<string, string>;
  reason?: 'failed' | 'missing';
  kind?: 'invalid' | 'missing' | 'exists';
}

export function toWire(err: unknown): WireError {
  if (err instanceof S3Error)
    return { name: 'S3Error', message: err.message, code: err.code, extra: err.extra, headers: err.headers };
  if (err instanceof PreconditionError) return { name: 'PreconditionError', message: err.message, reason: err.reason };
  if (err instanceof CredentialError) return { name: 'CredentialError', message: err.message, kind: err.kind };
  if (err instanceof LockedError) return { name: 'LockedError', message: err.message };
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message };
}

export function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'S3Error':
      return new S3Error(w.code as S3ErrorCode, w.message, w.extra, w.headers);
    case 'PreconditionError':
      return new PreconditionError(w.reason!);
    case 'CredentialError':
      return new CredentialError(w.message, w.kind);
    case 'LockedError':
      return new LockedError(w.message);
  }
  const e = new Error(w.message);
  e.name = w.name;
  return e;
}

/** Structured clone turns a Buffer into a plain Uint8Array: give results their Buffers back. */
export function reviveBuffers(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = reviveBuffers(v[i]);
    return v;
  }
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = reviveBuffers(o[k]);
  }
  return v;
}
