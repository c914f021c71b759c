// Async consistency, the spec's write-first pattern (shared/specs/event-queues.md): a write's
// body is staged durably and its command recorded as a pending task in the same SQLite store
// (one group-committed row, so no second durability mechanism), then the client gets 202. The
// consumer applies pending tasks in order through submit, the normal write path, so events go
// through the outbox as usual; `task.run` marks the task done in the same transaction as its
// change, so re-running a task after a crash does nothing twice. Start-up re-runs every pending
// task before serving.
import { randomBytes } from 'node:crypto';
import type { MetadataStore } from '../metadata/sqlite.ts';
import { PreconditionError } from '../metadata/sqlite.ts';
import type { Results, TaskCommand } from '../metadata/commands.ts';
import type { StorageBackend } from '../storage/backend.ts';
import type { Logger } from '../ops/log.ts';
import { S3Error } from '../s3/errors.ts';
import { FsyncError } from '../storage/backend.ts';

export type TaskState = 'pending' | 'done' | 'failed';

export interface TaskStatus {
  id: string;
  state: TaskState;
  error?: { code: string; message: string };
}

interface Parts {
  metadata: MetadataStore;
  storage: StorageBackend;
  log: Logger;
  collect(fileIds: readonly string[]): void;
  /** Pending tasks beyond this are refused with 503 SlowDown. */
  maxTasks: number;
}

/** The blobs a task's committed change released (to remove now; gc_files has the intent). */
function released(r: Results[TaskCommand['type']]): string[] {
  const id = typeof r === 'string' || r === null ? r : 'replacedFileId' in r ? r.replacedFileId : r.removed;
  return id ? [id] : [];
}

/** Tasks applied per transaction (one WAL fsync for the batch). */
const BATCH = 64;
/** Finished tasks' statuses are answered this long. */
const KEEP_FINISHED_MS = 3_600_000;

export interface WriteTasks {
  /**
   * Reserves a place in the queue before the body is read, or throws 503 SlowDown when the
   * queue is full; the returned function gives the place back (after enqueue, or on failure).
   */
  admit(): () => void;
  /** Records the command as a pending task (durable when this resolves) and wakes the consumer. */
  enqueue(command: TaskCommand, fileId: string | null): Promise<string>;
  status(id: string): TaskStatus | undefined;
  /** Applies every pending task; resolves once none is left (start-up awaits it). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

type Row = ReturnType<MetadataStore['pendingTasks']>[number];

/** The S3 error a task's command failed with, as the synchronous path would have answered. */
function s3ErrorOf(err: unknown, metadata: MetadataStore, cmd: TaskCommand): S3Error {
  if (err instanceof S3Error) return err;
  const { bucket, key } = cmd.type === 'object.put' ? cmd.object : cmd;
  if (!metadata.getBucket(bucket)) return new S3Error('NoSuchBucket', undefined, { BucketName: bucket });
  if (err instanceof PreconditionError) {
    if (err.reason === 'missing') return new S3Error('NoSuchKey', undefined, { Key: key });
    return new S3Error('PreconditionFailed', 'The condition of the write no longer held when its task ran.');
  }
  return new S3Error('InternalError');
}

export function createWriteTasks(p: Parts): WriteTasks {
  const { metadata, log } = p;
  /** Committed pending tasks as of the consumer's last look, and requests admitted but not yet queued. */
  let pending = metadata.pendingTaskCount();
  let reserved = 0;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let lastPrune = 0;

  const runBatch = async (rows: Row[]): Promise<void> => {
    const at = new Date().toISOString();
    const cmds = rows.map((r) => JSON.parse(r.command) as TaskCommand);
    const outcomes = await Promise.allSettled(
      rows.map((r, i) => metadata.submit({ type: 'task.run', id: r.id, command: cmds[i]!, at, event: cmds[i]!.event })),
    );
    const failed: Array<Promise<unknown>> = [];
    outcomes.forEach((o, i) => {
      const row = rows[i]!;
      if (o.status === 'fulfilled') {
        if (o.value.ran) p.collect(released(o.value.result));
        return;
      }
      const e = s3ErrorOf(o.reason, metadata, cmds[i]!);
      if (e.code === 'InternalError') log.error('a write task failed', { task_id: row.id, error: o.reason });
      failed.push(
        metadata
          .submit({ type: 'task.fail', id: row.id, code: e.code, message: e.message, at })
          .then(() => (row.file_id ? p.storage.remove(row.file_id) : undefined)),
      );
    });
    await Promise.all(failed);
  };

  const loop = async (): Promise<void> => {
    for (;;) {
      again = false;
      const rows = metadata.pendingTasks(BATCH);
      if (!rows.length) {
        pending = 0;
        if (!again) break;
        continue;
      }
      await runBatch(rows);
      pending = metadata.pendingTaskCount();
      if (stopped) break;
    }
    if (Date.now() - lastPrune > 60_000) {
      lastPrune = Date.now();
      await metadata.submit({ type: 'tasks.prune', before: new Date(Date.now() - KEEP_FINISHED_MS).toISOString() });
    }
  };

  const kick = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = loop()
      .catch((err: unknown) => {
        if (err instanceof FsyncError) throw err;
        log.error('applying write tasks failed; retrying', { error: err });
        setTimeout(() => void kick(), 1000).unref();
      })
      .finally(() => {
        running = undefined;
        if (again && !stopped) void kick();
      });
    return running;
  };

  return {
    admit() {
      if (pending + reserved >= p.maxTasks)
        throw new S3Error(
          'SlowDown',
          `${pending + reserved} accepted writes are still being applied (events.max_tasks); retry shortly.`,
          {},
          { 'Retry-After': '1' },
        );
      reserved++;
      let held = true;
      return () => {
        if (held) reserved--;
        held = false;
      };
    },
    async enqueue(command, fileId) {
      const id = randomBytes(16).toString('hex');
      await metadata.submit({ type: 'task.queue', id, command, fileId, at: new Date().toISOString() });
      pending++;
      void kick();
      return id;
    },
    status(id) {
      const r = metadata.task(id);
      if (!r) return undefined;
      return {
        id,
        state: r.state as TaskState,
        ...(r.error_code ? { error: { code: r.error_code, message: r.error_message ?? '' } } : {}),
      };
    },
    async drain() {
      while (!stopped && (pending > 0 || running)) {
        const before = pending;
        await kick();
        if (pending >= before) await new Promise((r) => setTimeout(r, 100)); // a failing round: retry
      }
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}
