// `bleepstore status`: where the data is, how much of it, how much room is left, and whether
// a server answers on the configured address.
import { statfs } from 'node:fs/promises';
import path from 'node:path';
import type { ProcessHooks } from '../process-hooks.ts';
import { dataPaths } from '../data-paths.ts';
import { listKeys } from '../metadata/credentials.ts';
import { adminConfig, openStore, runAdmin, STORE_OPTIONS, STORE_USAGE, parseFlags } from './open-store.ts';

const USAGE = `Usage: bleepstore status [options]

Prints the data paths, buckets, objects, bytes and keys in the database, the free space on
its disk, and whether a server answers at the configured host and port (/health).

Options:
${STORE_USAGE}
  --json              print JSON instead of text`;

async function probe(url: string): Promise<Record<string, unknown> | null> {
  try {
    const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1500) });
    return (await r.json()) as Record<string, unknown>;
  } catch {
    return null;
  }
}

export async function run(argv: string[], hooks: ProcessHooks): Promise<void> {
  await runAdmin('status', hooks, [], async () => {
    const { values } = parseFlags({
      args: argv,
      options: { ...STORE_OPTIONS, json: { type: 'boolean' } },
      strict: true,
    });
    if (values.help) return console.log(USAGE);
    const config = adminConfig(values);
    const store = openStore(config, true);
    let counts;
    let keys;
    try {
      counts = store.stats();
      keys = listKeys(store).length;
    } finally {
      store.close();
    }
    const fs = await statfs(path.dirname(path.resolve(config.metadata.sqlite.path)));
    const host =
      config.server.host === '0.0.0.0' ? '127.0.0.1' : config.server.host === '::' ? '[::1]' : config.server.host;
    const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${config.server.port}`;
    const health = await probe(url);
    const out = {
      ...dataPaths(config),
      backend: config.storage.backend,
      buckets: counts.buckets,
      objects: counts.objects,
      bytes: counts.bytes,
      keys,
      disk_free_bytes: fs.bavail * fs.bsize,
      disk_total_bytes: fs.blocks * fs.bsize,
      server: health ? { url, ...health } : { url, status: 'not answering' },
    };
    if (values.json) return console.log(JSON.stringify(out));
    const gib = (n: number) => `${(n / 2 ** 30).toFixed(1)} GiB`;
    console.log(
      [
        `Metadata:  ${out.metadata_path}`,
        `Objects:   ${out.objects_path} (${out.backend})`,
        `Contents:  ${out.buckets} buckets, ${out.objects} objects, ${out.bytes} bytes; ${out.keys} access keys`,
        `Disk:      ${gib(out.disk_free_bytes)} free of ${gib(out.disk_total_bytes)}`,
        `Server:    ${url} ${health ? `answers (${String(health.status)}${health.version ? `, version ${String(health.version)}` : ''})` : 'is not answering'}`,
      ].join('\n'),
    );
  });
}
