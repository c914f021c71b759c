// A received snapshot the node installs keeps its state file beside raft.db, as
// `<raft.db>-snapshot-<index>.db`, for as long as the stored snapshot refers to it: the
// reference is recorded before the state machine is restored from the file, so a crash in
// between restores again at the next start. The next compaction (a snapshot that refers to
// nothing) or a newer received snapshot makes the file unreferenced, and it is removed.
import { readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { fsyncDirSync } from '../storage/local.ts';
import path from 'node:path';
import type { Snapshot } from './raft/index.ts';
import type { StateMachine } from './node-api.ts';
import { decodeSnapshot, encodeSnapshot, fileRef, refOf } from './snapshot-data.ts';

const kept = (storagePath: string): RegExp =>
  new RegExp(`^${path.basename(storagePath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-snapshot-\\d+\\.db$`);

/** Moves a received state file to its kept name (rename, then fsync of the directory). */
export function keepSnapshotFile(storagePath: string, file: string, index: number): string {
  const to = `${storagePath}-snapshot-${index}.db`;
  renameSync(file, to);
  fsyncDirSync(path.dirname(to));
  return to;
}

/** Removes every kept state file but `keep`. */
export function pruneKeptSnapshots(storagePath: string, keep: string | undefined): void {
  const dir = path.dirname(storagePath);
  const mine = kept(storagePath);
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (mine.test(f) && p !== keep) rmSync(p, { force: true });
  }
}

/** A snapshot to install whose state arrived as a file: the file moves to its kept name before
 *  the snapshot (now referring to the kept name) is recorded. */
export function keepReceived(storagePath: string, snap: Snapshot): Snapshot {
  const { directory, state } = decodeSnapshot(snap.data);
  const file = refOf(state);
  if (!file) return snap;
  const kept = keepSnapshotFile(storagePath, file, snap.metadata.index);
  return { ...snap, data: encodeSnapshot(new Map(directory), fileRef(kept)) };
}

/** Restores `sm` from a snapshot's state part: its bytes, or the file it refers to. */
export function restoreState(sm: StateMachine, state: Uint8Array, index: number): void {
  const file = refOf(state);
  if (!file) sm.restore(state, index);
  else if (sm.restoreFile) sm.restoreFile(file, index);
  else sm.restore(readFileSync(file), index);
}
