// A MsgSnap on the wire and on the receiver's disk. The sender sends, in chunks:
// [u32 n][the message as JSON, snapshot data left out][u32 m][the data's head, m bytes][tail].
// The head is the data the message carries (for the metadata database: the member directory;
// lib/cluster/snapshot-data.ts); the tail is a file streamed as is (the database copy of
// lib/cluster/snapshot-sender.ts), so neither side ever holds it in memory. The receiver
// writes the head and the tail to two files as chunks arrive, fsyncs both, keeps the tail as
// `<from>-<id>.db` and hands Raft the message with the head followed by a reference to that
// file (fileRef); the node moves the file out (lib/cluster/snapshot-keep.ts) if it installs
// the snapshot, and removes it otherwise. What a crash leaves is removed at the next start.
import { mkdir, open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../storage/local.ts';
import { fsyncOrDie } from '../storage/backend.ts';
import { decodeMessage, encodeMessage } from './raft/codec.ts';
import type { Message } from './raft/types.ts';
import { fileRef } from './snapshot-data.ts';

/** The parts of a snapshot message's wire form, without copying the data. */
export function snapshotWire(msg: Message): Buffer[] {
  const snap = msg.snapshot!;
  const header = Buffer.from(encodeMessage({ ...msg, snapshot: { metadata: snap.metadata, data: new Uint8Array() } }));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  const headLen = Buffer.alloc(4);
  headLen.writeUInt32BE(snap.data.byteLength);
  return [len, header, headLen, Buffer.from(snap.data.buffer, snap.data.byteOffset, snap.data.byteLength)];
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

/** One incoming snapshot being written to `<dir>/<from>-<id>.part`. */
/** Longest message header accepted (the message JSON without its snapshot data). */
const MAX_HEADER_BYTES = 64 * 1024;

/** One incoming snapshot: its first bytes up to the head's end go to `<dir>/<from>-<id>.part`,
 *  the tail to `<dir>/<from>-<id>.db.part`, as they arrive. */
export class SnapshotFile {
  readonly id: string;
  readonly total: number;
  next = 0;
  bytes = 0;
  private readonly dir: string;
  private readonly name: string;
  private head: FileHandle | undefined;
  private tail: FileHandle | undefined;
  private tailBytes = 0;
  /** The first bytes, until the head's end is known. */
  private start = Buffer.alloc(0);
  /** Where the tail begins (4 + n + 4 + m), once the start says. */
  private headEnd: number | undefined;

  private constructor(dir: string, name: string, id: string, total: number) {
    this.dir = dir;
    this.name = name;
    this.id = id;
    this.total = total;
  }

  private file(suffix: string): string {
    return path.join(this.dir, `${this.name}${suffix}`);
  }

  static async create(dir: string, from: number, id: string, total: number): Promise<SnapshotFile> {
    await mkdir(dir, { recursive: true });
    const f = new SnapshotFile(dir, `${from}-${id}`, id, total);
    f.head = await open(f.file('.part'), 'w');
    return f;
  }

  async append(chunk: Buffer): Promise<void> {
    if (this.headEnd === undefined) this.learnHeadEnd(chunk);
    const at = this.bytes;
    const headPart = this.headEnd === undefined ? chunk.length : Math.max(0, Math.min(chunk.length, this.headEnd - at));
    if (headPart > 0) await writeAll(this.head!, chunk.subarray(0, headPart), at);
    if (headPart < chunk.length) {
      this.tail ??= await open(this.file('.db.part'), 'w');
      await writeAll(this.tail, chunk.subarray(headPart), this.tailBytes);
      this.tailBytes += chunk.length - headPart;
    }
    this.bytes += chunk.length;
    this.next++;
  }

  private learnHeadEnd(chunk: Buffer): void {
    if (this.start.length < 8 + MAX_HEADER_BYTES)
      this.start = Buffer.concat([this.start, chunk.subarray(0, 8 + MAX_HEADER_BYTES - this.start.length)]);
    if (this.start.length < 4) return;
    const n = this.start.readUInt32BE(0);
    if (n > MAX_HEADER_BYTES) throw new Error('snapshot header too long');
    if (this.start.length < 8 + n) return;
    this.headEnd = 8 + n + this.start.readUInt32BE(4 + n);
    this.start = Buffer.alloc(0);
  }

  /** fsyncs both files, keeps the tail under its final name, reads the head back (small: a
   *  directory) and returns the message, whose data refers to the kept tail file. */
  async finish(): Promise<Message> {
    if (this.headEnd === undefined || this.bytes < this.headEnd) throw new Error('snapshot ends inside its head');
    await fsyncOrDie(this.head!, this.file('.part'));
    await this.head!.close();
    this.head = undefined;
    let kept: string | undefined;
    if (this.tail) {
      await fsyncOrDie(this.tail, this.file('.db.part'));
      await this.tail.close();
      this.tail = undefined;
      kept = this.file('.db');
      await rename(this.file('.db.part'), kept);
      await fsyncDir(this.dir);
    }
    const all = await readFile(this.file('.part'));
    await rm(this.file('.part'), { force: true });
    const n = all.readUInt32BE(0);
    const msg = decodeMessage(all.subarray(4, 4 + n).toString('utf8'));
    if (msg.type !== 'MsgSnap' || !msg.snapshot) throw new Error('not a snapshot message');
    const head = all.subarray(8 + n);
    const data = kept ? Buffer.concat([head, fileRef(kept)]) : head;
    return { ...msg, snapshot: { ...msg.snapshot, data: new Uint8Array(data.buffer, data.byteOffset, data.length) } };
  }

  async discard(): Promise<void> {
    await this.head?.close().catch(() => {});
    await this.tail?.close().catch(() => {});
    this.head = this.tail = undefined;
    await rm(this.file('.part'), { force: true });
    await rm(this.file('.db.part'), { force: true });
    await rm(this.file('.db'), { force: true });
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Start-up: what a crash left in a snapshot directory (incoming parts, outgoing copies) is
 *  useless: the leader resends, the core asks for a new copy. */
export async function clearSnapshotDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
}
