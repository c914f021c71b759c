// Console sessions: a random id in an HttpOnly cookie, a CSRF token the page sends in a header,
// and a bounded server-side map. A session stands for one access key; it ends on logout, after
// an idle or an absolute timeout, and as soon as its key is deleted, deactivated or rotated
// (each use re-checks the key against the credential store).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Credential, Principal } from '../auth/types.ts';

export const IDLE_MS = 60 * 60 * 1000;
export const MAX_AGE_MS = 12 * 60 * 60 * 1000;
export const MAX_SESSIONS = 1000;

interface Session {
  principal: Principal;
  /** SHA-256 of the key's secret at login: a rotated key ends the session. */
  secretHash: Buffer;
  csrf: string;
  created: number;
  lastSeen: number;
}

export interface NewSession {
  id: string;
  csrf: string;
}

const sha256 = (s: string | Buffer): Buffer => createHash('sha256').update(s).digest();

/** Equal-length, constant-time comparison of two strings (false when lengths differ). */
export function secretsEqual(a: string, b: string): boolean {
  // Hashing first makes the lengths equal, so the comparison time says nothing about `b`.
  return timingSafeEqual(sha256(a), sha256(b));
}

export class SessionStore {
  // Keyed by the SHA-256 of the cookie value, so a lookup's timing reveals nothing about ids.
  readonly #sessions = new Map<string, Session>();
  readonly #lookup: (accessKeyId: string) => Credential | undefined;
  readonly #now: () => number;
  readonly #max: number;

  constructor(
    lookup: (accessKeyId: string) => Credential | undefined,
    opts: { now?: () => number; max?: number } = {},
  ) {
    this.#lookup = lookup;
    this.#now = opts.now ?? Date.now;
    this.#max = opts.max ?? MAX_SESSIONS;
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Checks the secret against the credential store; a new session, or undefined. */
  login(accessKeyId: string, secretKey: string): (NewSession & { principal: Principal }) | undefined {
    const cred = this.#lookup(accessKeyId);
    // Compare even for an unknown key, so the answer takes as long either way.
    const ok = secretsEqual(cred?.secretKey ?? 'no such key: compare anyway', secretKey) && cred !== undefined;
    if (!ok) return undefined;
    this.#prune();
    while (this.#sessions.size >= this.#max) this.#sessions.delete(this.#sessions.keys().next().value!); // the oldest
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const now = this.#now();
    const principal = { accessKeyId: cred.accessKeyId, ownerId: cred.ownerId, displayName: cred.displayName };
    this.#sessions.set(sha256(id).toString('base64'), {
      principal,
      secretHash: sha256(cred.secretKey),
      csrf,
      created: now,
      lastSeen: now,
    });
    return { id, csrf, principal };
  }

  /**
   * The session for a cookie value, if it is live and its key unchanged. With `csrf` given, the
   * token must match too. Touches the idle timer.
   */
  get(id: string | undefined, csrf?: string): { principal: Principal; csrf: string; csrfOk: boolean } | undefined {
    if (!id || id.length > 100) return undefined;
    const hid = sha256(id).toString('base64');
    const s = this.#sessions.get(hid);
    if (!s) return undefined;
    const now = this.#now();
    const cred = this.#lookup(s.principal.accessKeyId);
    if (
      now - s.lastSeen > IDLE_MS ||
      now - s.created > MAX_AGE_MS ||
      !cred ||
      !timingSafeEqual(sha256(cred.secretKey), s.secretHash)
    ) {
      this.#sessions.delete(hid);
      return undefined;
    }
    s.lastSeen = now;
    const csrfOk = csrf !== undefined && secretsEqual(s.csrf, csrf);
    return { principal: s.principal, csrf: s.csrf, csrfOk };
  }

  logout(id: string | undefined): void {
    if (id) this.#sessions.delete(sha256(id).toString('base64'));
  }

  #prune(): void {
    const now = this.#now();
    for (const [k, s] of this.#sessions)
      if (now - s.lastSeen > IDLE_MS || now - s.created > MAX_AGE_MS) this.#sessions.delete(k);
  }
}
