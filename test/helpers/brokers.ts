// Real message brokers for the event tests: Debian's redis-server and rabbitmq-server, each on
// free loopback ports with its data in a temp directory, stoppable and restartable on the same
// port (the data survives, as it would for an operator's broker). Nothing here is a mock.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deadPort } from './net.ts';

export interface Broker {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
  /** Its process group (it runs detached), e.g. to read its CPU time; undefined while stopped. */
  pgid(): number | undefined;
}

export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Whether something accepts TCP connections on 127.0.0.1:port now. */
export function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function waitForPort(port: number, ms: number, proc: ChildProcess, log: () => string): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (proc.exitCode !== null) throw new Error(`broker exited (${proc.exitCode}): ${log().slice(-2000)}`);
    if (await accepts(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`broker did not listen on ${port} within ${ms} ms: ${log().slice(-2000)}`);
}

/**
 * SIGKILLs the process group and resolves once no process of it is left. The group, not just
 * `proc`: rabbitmq-server is a script that runs the Erlang VM in the background and waits for
 * it, so the script's exit came while the VM still held the AMQP port, and a restart "found"
 * the dying broker listening (the restart test then failed with ECONNRESET, ~1 run in 15).
 */
async function stopProc(proc: ChildProcess | undefined): Promise<void> {
  // Once its group is gone, its id may belong to someone else's processes: never signal it again.
  if (proc?.pid === undefined || stopped.has(proc)) return;
  const pgid = proc.pid;
  const exited =
    proc.exitCode !== null || proc.signalCode !== null
      ? Promise.resolve()
      : new Promise((resolve) => proc.once('exit', resolve));
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    proc.kill('SIGKILL');
  }
  await exited;
  for (let i = 0; groupAlive(pgid); i++) {
    if (i === 500) throw new Error(`process group ${pgid} still has processes 10 s after SIGKILL`);
    await new Promise((r) => setTimeout(r, 20));
  }
  stopped.add(proc);
}
const stopped = new WeakSet<ChildProcess>();

/** True while some process of group `pgid` exists (signal 0 only checks). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

/** redis-server with an append-only file fsynced on every write, so confirmed XADDs survive a restart. */
export async function startRedis(): Promise<Broker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleep-redis-'));
  const port = await deadPort();
  let proc: ChildProcess | undefined;
  let out = '';
  const broker: Broker = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      proc = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
          '--appendonly',
          'yes',
          '--appendfsync',
          'always',
          '--save',
          '',
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          detached: true,
        },
      );
      out = '';
      proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      await waitForPort(port, 10_000, proc, () => out);
      // The port opens before the append-only file is loaded; until then Redis answers
      // "LOADING" (a restart failed a test's own XRANGE that way in CI). It logs this line once
      // the data is in memory.
      for (let i = 0; !out.includes('Ready to accept connections'); i++) {
        if (i === 500) throw new Error(`redis-server did not finish loading in 10 s:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    stop: () => stopProc(proc),
    pgid: () => (proc && proc.exitCode === null && proc.signalCode === null ? proc.pid : undefined),
    async destroy() {
      await stopProc(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

/**
 * rabbitmq-server as its own Erlang node: its own epmd on a free port (so nothing outlives the
 * test), its own node name, mnesia and log directories. Starting takes ~5 s.
 */
export async function startRabbit(): Promise<Broker> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bleep-rabbit-'));
  const [port, distPort, epmdPort] = [await deadPort(), await deadPort(), await deadPort()];
  mkdirSync(path.join(dir, 'home'));
  writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
  writeFileSync(path.join(dir, 'rabbitmq.conf'), 'loopback_users = none\n');
  writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '');
  const env = {
    ...process.env,
    HOME: path.join(dir, 'home'),
    RABBITMQ_NODENAME: `bleeptest${port}@localhost`,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    ERL_EPMD_PORT: String(epmdPort),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: path.join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
    RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_PID_FILE: path.join(dir, 'pid'),
    // No scheduler busy-waiting, which would take CPU from the server under test on a shared
    // 2-core machine. RabbitMQ 3.10's rabbitmq-env already defaults to `none` (an idle broker
    // measured ~0 CPU); set here so an older or re-configured broker behaves the same.
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '+sbwt none +sbwtdcpu none +sbwtdio none',
  };
  let epmd: ChildProcess | undefined;
  let proc: ChildProcess | undefined;
  let out = '';
  const broker: Broker = {
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    port,
    async start() {
      if (!epmd || epmd.exitCode !== null || epmd.signalCode !== null) {
        epmd = spawn('epmd', ['-port', String(epmdPort), '-address', '127.0.0.1'], {
          env,
          stdio: 'ignore',
          detached: true,
        });
      }
      proc = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      await waitForPort(port, 60_000, proc, () => out);
    },
    stop: () => stopProc(proc),
    pgid: () => (proc && proc.exitCode === null && proc.signalCode === null ? proc.pid : undefined),
    async destroy() {
      await stopProc(proc);
      await stopProc(epmd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}
