// The real server as a child process (bin/bleepstore), for tests that kill it or measure it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../ops/wait.ts';

const BIN = fileURLToPath(new URL('../../bin/bleepstore', import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  pid: number;
  url: string;
  port: number;
  /** JSON log lines seen so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves when the process has exited. */
  exited: Promise<number | null>;
  /** True while the process runs: it has neither exited nor been killed. */
  alive(): boolean;
  /** What went wrong by the process's own account: its stderr, and log lines at level error. */
  troubles(): string[];
  kill9(): Promise<void>;
}

/**
 * For a test about to kill the server: it must still be running (a server that died by itself
 * would otherwise pass for one the test killed) and must have reported no failure.
 */
export function assertRanCleanly(srv: ServerProcess, when: string): void {
  if (!srv.alive())
    throw new Error(
      `${when}: the server had already exited by itself (code ${srv.proc.exitCode}, signal ${srv.proc.signalCode}): ${srv.troubles().join(' | ')}`,
    );
  const troubles = srv.troubles();
  if (troubles.length) throw new Error(`${when}: the server reported failures: ${troubles.join(' | ')}`);
}

/**
 * Starts `bin/bleepstore --port 0 --data-dir dir` and resolves once it logs `ready`.
 * `openFiles` runs it under `ulimit -n` of that many descriptors; `bin` is another checkout's
 * bin/bleepstore and `nodeArgs` go to node before it (a benchmark's A/B, --cpu-prof).
 */
export function spawnServer(
  dataDir: string,
  extraArgs: string[] = [],
  onSpawn?: (proc: ChildProcess) => void,
  openFiles?: number,
  how: { bin?: string; nodeArgs?: string[] } = {},
): Promise<ServerProcess> {
  const args = [
    ...(how.nodeArgs ?? []),
    how.bin ?? BIN,
    '--port',
    '0',
    '--data-dir',
    dataDir,
    '--log-level',
    'info',
    ...extraArgs,
  ];
  const proc =
    openFiles === undefined
      ? spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('bash', ['-c', `ulimit -n ${openFiles} && exec "$0" "$@"`, process.execPath, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
  onSpawn?.(proc);
  const logs: Array<Record<string, unknown>> = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      logs.push(entry);
      if (entry.msg === 'ready' && typeof entry.url === 'string') {
        const url = entry.url;
        resolve({
          proc,
          pid: proc.pid!,
          url,
          port: Number(new URL(url).port),
          logs,
          exited,
          alive: () => proc.exitCode === null && proc.signalCode === null,
          troubles: () => [
            ...(stderr.trim() ? [stderr.trim()] : []),
            ...logs.filter((l) => l.level === 'error' || l.level === 'fatal').map((l) => JSON.stringify(l)),
          ],
          async kill9() {
            proc.kill('SIGKILL');
            await exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`server exited (${code}) before it was ready: ${stderr}`)));
  });
}

/** Resident set size of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * One round of a crash test: `workers` run against the server for a random 80-700 ms, then
 * the server (which must still be running cleanly) is killed with SIGKILL mid-load. Resolves
 * with the workers' outcomes once they have all given up.
 */
export async function killUnderLoad(
  srv: ServerProcess,
  round: number,
  workers: (stop: { now: boolean }) => Array<Promise<void>>,
): Promise<Array<PromiseSettledResult<void>>> {
  const stop = { now: false };
  const running = workers(stop);
  await new Promise((r) => setTimeout(r, 80 + Math.floor(Math.random() * 620)));
  stop.now = true;
  assertRanCleanly(srv, `round ${round}, before kill -9`);
  await srv.kill9();
  return Promise.allSettled(running);
}

/** Starts the server again on `dataDir` and waits for its start-up scrub (orphans are removed there). */
export async function restartScrubbed(dataDir: string): Promise<ServerProcess> {
  const srv = await spawnServer(dataDir);
  await waitFor(() => srv.logs.some((l) => l.msg === 'scrub done'), 'the start-up scrub', 30_000);
  return srv;
}
