// How many client connections the server takes at once. Every connection holds a socket
// descriptor, and a request on it may hold one or two more (the object file it reads or
// writes, a copy's source); SQLite and the runtime need their own. Past the cap Node closes
// new sockets at once, so connections already open keep working instead of failing on EMFILE.
import { readFileSync } from 'node:fs';

/** Descriptors kept for SQLite (db, WAL, shm), stdio, the event loop and log files. */
const RESERVED = 64;
const FALLBACK = 1024;

/** The soft RLIMIT_NOFILE of this process (Linux /proc), or undefined where unknown. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/** `configured` when set (> 0), else half of what the descriptor limit leaves after the reserve. */
export function maxConnections(configured: number, limit = openFileLimit()): number {
  if (configured > 0) return configured;
  if (limit === undefined) return FALLBACK;
  return Math.max(8, Math.floor((limit - RESERVED) / 2));
}
