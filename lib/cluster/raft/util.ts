// Small helpers shared by the log, the storage implementations and the leader.
import type { Entry } from './types.ts';

export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

/** The longest prefix of ents within maxSize bytes, always at least one entry. */
export function limitSize(ents: Entry[], maxSize: number): Entry[] {
  if (ents.length <= 1) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxSize) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

export function payloadSize(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.byteLength;
  return s;
}
