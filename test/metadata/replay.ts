// Replays a command recording (lib/metadata/recording.ts) onto a store, in order.
import { readFile } from 'node:fs/promises';
import type { MetadataStore, Recorded } from '../../lib/metadata/sqlite.ts';
import type { Command } from '../../lib/metadata/commands.ts';

export async function replay(store: MetadataStore, file: string): Promise<number> {
  const entries = (await readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Recorded);
  let pending: Array<Promise<unknown>> = [];
  // Plain commands go in as fast as they come (group commit keeps their order); a failed
  // one failed in the original run too, so its rejection is expected.
  const settle = async (): Promise<void> => {
    await Promise.allSettled(pending);
    pending = [];
  };
  for (const e of entries) {
    if ('atomic' in e) {
      await settle();
      await store.atomically(async (s) => {
        for (const c of e.atomic) s.apply(c);
      });
    } else {
      pending.push(store.submit(e as Command));
    }
  }
  await settle();
  return entries.length;
}
