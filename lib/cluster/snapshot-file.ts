// A MsgSnap on the wire and on the receiver's disk. The sender sends [4-byte header length]
// [the message as JSON, snapshot data left out][the snapshot data, raw] in chunks; the
// receiver appends each chunk to a temp file as it arrives (nothing but one chunk in memory
// while a large snapshot trickles in), then fsyncs and renames it whole, and reads it back
// once to hand the message to Raft. Leftovers of a crash are removed at the next start.
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../storage/local.ts';
import { decodeMessage, encodeMessage } from './raft/codec.ts';
import type { Message } from './raft/types.ts';

/** The parts of a snapshot message's wire form, without copying the data. */
export function snapshotWire(msg: Message): Buffer[] {
  const snap = msg.snapshot!;
  const header = Buffer.from(encodeMessage({ ...msg, snapshot: { metadata: snap.metadata, data: new Uint8Array() } }));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  return [len, header, Buffer.from(snap.data.buffer, snap.data.byteOffset, snap.data.byteLength)];
}

/** A snapshot message's wire bytes: in-memory parts, then optionally the state machine's copy
 *  in a file (lib/cluster/snapshot-copy.ts), read a chunk at a time as it is sent. */
export class SnapshotSource {
  readonly size: number;
  private readonly parts: Buffer[];
  private readonly headSize: number;
  private readonly fh: FileHandle | undefined;

  private constructor(parts: Buffer[], fh: FileHandle | undefined, fileSize: number) {
    this.parts = parts;
    this.fh = fh;
    this.headSize = parts.reduce((a, p) => a + p.length, 0);
    this.size = this.headSize + fileSize;
  }

  static async of(msg: Message, file?: string): Promise<SnapshotSource> {
    if (!file) return new SnapshotSource(snapshotWire(msg), undefined, 0);
    const fh = await open(file, 'r');
    try {
      return new SnapshotSource(snapshotWire(msg), fh, (await fh.stat()).size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Bytes [start, end). */
  async slice(start: number, end: number): Promise<Buffer> {
    const head = start < this.headSize ? sliceParts(this.parts, start, Math.min(end, this.headSize)) : undefined;
    if (!this.fh || end <= this.headSize) return head!;
    const from = Math.max(start, this.headSize) - this.headSize;
    const tail = Buffer.allocUnsafe(end - this.headSize - from);
    let done = 0;
    while (done < tail.length) {
      const { bytesRead } = await this.fh.read(tail, done, tail.length - done, from + done);
      if (bytesRead === 0) throw new Error('the snapshot copy is shorter than it was');
      done += bytesRead;
    }
    return head ? Buffer.concat([head, tail]) : tail;
  }

  async close(): Promise<void> {
    await this.fh?.close();
  }
}

/** Bytes [start, end) of the concatenation of `parts` (one copy of at most end - start bytes). */
export function sliceParts(parts: readonly Buffer[], start: number, end: number): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (const p of parts) {
    const from = Math.max(start - at, 0);
    const to = Math.min(end - at, p.length);
    if (from < to) out.push(p.subarray(from, to));
    at += p.length;
    if (at >= end) break;
  }
  return out.length === 1 ? out[0]! : Buffer.concat(out);
}

export function decodeSnapshotWire(all: Buffer): Message {
  const n = all.readUInt32BE(0);
  if (4 + n > all.length) throw new Error('snapshot header runs past the end');
  const msg = decodeMessage(all.subarray(4, 4 + n).toString('utf8'));
  if (msg.type !== 'MsgSnap' || !msg.snapshot) throw new Error('not a snapshot message');
  const data = all.subarray(4 + n);
  return { ...msg, snapshot: { ...msg.snapshot, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } };
}

/** One incoming snapshot being written to `<dir>/<from>-<id>.part`. */
export class SnapshotFile {
  readonly id: string;
  readonly total: number;
  next = 0;
  bytes = 0;
  private readonly file: string;
  private readonly dir: string;
  private fh: FileHandle | undefined;

  private constructor(dir: string, name: string, id: string, total: number) {
    this.dir = dir;
    this.file = path.join(dir, `${name}.part`);
    this.id = id;
    this.total = total;
  }

  static async create(dir: string, from: number, id: string, total: number): Promise<SnapshotFile> {
    await mkdir(dir, { recursive: true });
    const f = new SnapshotFile(dir, `${from}-${id}`, id, total);
    f.fh = await open(f.file, 'w');
    return f;
  }

  async append(chunk: Buffer): Promise<void> {
    let done = 0;
    while (done < chunk.length) {
      const { bytesWritten } = await this.fh!.write(chunk, done, chunk.length - done, this.bytes + done);
      done += bytesWritten;
    }
    this.bytes += chunk.length;
    this.next++;
  }

  /** fsync, rename to its final name, fsync the directory, read back, remove. */
  async finish(): Promise<Message> {
    await this.fh!.sync();
    await this.fh!.close();
    this.fh = undefined;
    const whole = this.file.replace(/\.part$/, '.snap');
    await rename(this.file, whole);
    await fsyncDir(this.dir);
    try {
      return decodeSnapshotWire(await readFile(whole));
    } finally {
      await rm(whole, { force: true });
    }
  }

  async discard(): Promise<void> {
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await rm(this.file, { force: true });
  }
}

/** Start-up: what a crash left mid-transfer is useless (the leader resends). */
export async function clearSnapshotDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}
