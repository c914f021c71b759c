// Cluster mode's submit(): the command is proposed through Raft and the promise settles once
// it is committed and applied on this node (the outcome of the apply, success or error, is
// the same on every node). Blobs the command references are made durable on a majority of
// `cluster.replicas` nodes first, so a committed row never points at bytes only one node has.
import type { Command } from '../metadata/commands.ts';
import { S3Error } from '../s3/errors.ts';
import { BLOB_ID_RE } from '../storage/backend.ts';
import { ClusterUnavailableError, type ClusterNode } from './node.ts';
import type { ApplyOutcome } from './metadata-state-machine.ts';
import type { BlobSync } from './blob-sync.ts';
import { encodeCommand } from './command-codec.ts';

/** The blob ids a command makes rows point at: every `fileId` in it, however deep (object,
 *  part and version rows alike, so new command types need no change here). */
export function referencedFiles(cmd: Command): string[] {
  if (cmd.type === 'gc.done' || cmd.type === 'blob.chunk' || cmd.type === 'blob.remove') return [];
  // The commands of every PUT: their one id is known. A generic walk over every command's
  // many shapes kept V8 deoptimizing it ("wrong map", hundreds of times a second on a leader).
  if (cmd.type === 'object.put' || cmd.type === 'upload.complete') {
    const id = cmd.object.fileId;
    return id && BLOB_ID_RE.test(id) ? [id] : [];
  }
  const ids: string[] = [];
  const walk = (v: object): void => {
    // Inline object bytes (InlineBytes) hold no ids: walking a 64 KiB array cost ~10 ms.
    if (ArrayBuffer.isView(v)) return;
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      if (typeof x === 'string') {
        if (k === 'fileId' && x && BLOB_ID_RE.test(x) && !ids.includes(x)) ids.push(x);
      } else if (x && typeof x === 'object') walk(x);
    }
  };
  walk(cmd);
  return ids;
}

/** 503 with Retry-After: what S3 clients retry with back-off. */
export function unavailable(message: string): S3Error {
  return new S3Error('ServiceUnavailable', message, {}, { 'Retry-After': '1' });
}

/**
 * `handOver` submits a command at the current leader when this node is not (or no longer) it.
 * Used only for a command Raft never took here (refused while leadership is handed over, or
 * queued when leadership was lost), so it cannot apply twice. Inline bytes travel in the
 * command; the new leader makes a referenced blob durable on a majority again before it
 * proposes (it fetches the blob from this node if it lacks it, and peers that already hold a
 * copy answer the push before its body is sent: blob-replication.ts).
 */
export function replicatedSubmit(
  node: ClusterNode,
  blobs: BlobSync | undefined,
  handOver?: (cmd: Command) => Promise<unknown>,
): (cmd: Command) => Promise<unknown> {
  return async (cmd) => {
    const files = referencedFiles(cmd);
    if (node.basicStatus().role !== 'leader') {
      if (handOver) return handOver(cmd);
      throw unavailable('This node is not the cluster leader; retry.');
    }
    if (blobs && files.length) {
      try {
        await blobs.replicate(files);
      } catch (err) {
        throw unavailable(`Not enough nodes took the object's bytes: ${(err as Error).message}`);
      }
    }
    let out: ApplyOutcome;
    try {
      out = (await node.propose(encodeCommand(cmd))) as ApplyOutcome;
    } catch (err) {
      if (err instanceof ClusterUnavailableError) {
        if (err.outcome === 'notLeader' && handOver) return handOver(cmd);
        throw unavailable(`The change was not committed (${err.outcome}): ${err.message}`);
      }
      throw err;
    }
    if (out.ok) return out.value;
    throw out.error;
  };
}
