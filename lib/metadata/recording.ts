// Recording the commands a store applies, for replay (the determinism test, and later the
// shape of a replicated log). BLEEPSTORE_RECORD_COMMANDS=DIR makes every store of the process
// write DIR/<pid>-<n>.commands.jsonl (one command a line, in applied order) and, when it
// closes, DIR/<pid>-<n>.export.json: its metadata as `meta export` writes it, for comparing.
import { appendFileSync, createWriteStream, mkdirSync } from 'node:fs';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import type { MetadataStore, Recorded } from './sqlite.ts';
import { exportMetadata } from './export.ts';

export interface CommandRecorder {
  record(entry: Recorded): void;
  /** Called once at close, before the store closes. */
  finish(store: MetadataStore): Promise<void>;
}

/** A fixed export time, so two exports of equal state are equal byte for byte. */
export const RECORDING_EXPORT_TIME = new Date(0);

let stores = 0;

export function commandRecorder(dir: string | undefined): CommandRecorder | undefined {
  if (!dir) return undefined;
  mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${process.pid}-${++stores}`);
  const file = `${base}.commands.jsonl`;
  return {
    record(entry) {
      appendFileSync(file, JSON.stringify(entry) + '\n');
    },
    async finish(store) {
      await exportTo(store, `${base}.export.json`);
    },
  };
}

/** Writes the store's full metadata (secrets included) to `file`. */
export async function exportTo(store: MetadataStore, file: string): Promise<void> {
  const out = createWriteStream(file);
  await exportMetadata(store, out, { includeCredentials: true, now: RECORDING_EXPORT_TIME });
  out.end();
  await finished(out);
}
