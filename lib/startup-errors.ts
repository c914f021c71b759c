// Start-up failures an operator can fix, as one sentence each (no stack trace): the address,
// the port, the data directory. Anything else is a bug and keeps its stack.
import path from 'node:path';
import type { Config } from './config.ts';

/** The sentence for a known start-up failure, or undefined for an unexpected one. */
export function startupProblem(err: unknown, config: Config): string | undefined {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = `${config.server.host}:${config.server.port}`;
  if (e?.syscall === 'listen' || e?.syscall === 'bind') {
    switch (e.code) {
      case 'EADDRINUSE':
        return `port ${config.server.port} on ${config.server.host} is already in use; stop the other server or pick another --port.`;
      case 'EADDRNOTAVAIL':
        return `address ${config.server.host} is not available on this machine; use --host 127.0.0.1, 0.0.0.0 or an address one of its interfaces has.`;
      case 'EACCES':
      case 'EPERM':
        return `permission denied to listen on ${where}; ports below 1024 need privileges, so pick --port 1024 or above.`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return `host name ${config.server.host} does not resolve; use an IP address for --host.`;
    }
    return undefined;
  }
  // node:sqlite names no path: an existing database that cannot be opened (permissions, not a
  // database, another program's lock) is reported with the configured path.
  if (e?.code === 'ERR_SQLITE_ERROR')
    return `the metadata database ${path.resolve(config.metadata.sqlite.path)} cannot be used: ${e.message}.`;
  const p = e?.path ? path.resolve(e.path) : undefined;
  if (!p) return undefined;
  switch (e.code) {
    case 'EEXIST':
    case 'ENOTDIR':
      return `${p} (or a folder above it) is a file, but the data directory must be a directory; check --data-dir.`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied for ${p}; the data directory must be writable by this user (check --data-dir and its owner).`;
    case 'EROFS':
      return `${p} is on a read-only file system; point --data-dir at a writable one.`;
    case 'ENOSPC':
      return `no space left on the device holding ${p}.`;
  }
  return undefined;
}

/** The known flag nearest to an unknown one (edit distance ≤ 2, or a prefix), if any. */
export function nearestFlag(given: string, known: readonly string[]): string | undefined {
  const g = given.replace(/^-+/, '').split('=')[0]!;
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = k.startsWith(g) && g.length >= 3 ? 1 : editDistance(g, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** parseArgs' error as one sentence naming the flag, with the nearest known one suggested. */
export function flagProblem(err: NodeJS.ErrnoException, known: readonly string[]): string {
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'([^']+)'/.exec(err.message)?.[1] ?? '';
    const near = nearestFlag(flag, known);
    return `unknown option ${flag}${near ? `; did you mean --${near}?` : ''}`;
  }
  return err.message;
}
