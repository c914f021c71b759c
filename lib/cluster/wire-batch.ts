// A batch of Raft messages as one request or response body on the cluster port. Version 1:
// byte 0x01, then per message a u32 (big-endian) header length, the header (the message as
// JSON without its entries' and snapshot's bytes, each replaced by its length) and those
// bytes raw, in order. The JSON form (codec.ts, base64 payloads, one message per line) made a
// 64 KiB inline object cost a base64 pass and a 116 KiB JSON string per follower on the
// leader, and the reverse on each follower. A body starting with '{' is that older form and
// is still read, so a node of this version understands an older peer.
import { decodeMessage } from './raft/codec.ts';
import type { Entry, Message, Snapshot } from './raft/types.ts';

const VERSION = 1;

type EntryHead = [term: number, index: number, type: Entry['type'], bytes: number];
type Head = Omit<Message, 'entries' | 'snapshot'> & {
  entries: EntryHead[];
  snapshot?: { metadata: Snapshot['metadata']; bytes: number };
};

/** The parts of one message's frame: its length prefix and header, then its payloads. */
export function messageFrame(m: Message): Buffer[] {
  const head: Head = {
    ...m,
    entries: m.entries.map((e) => [e.term, e.index, e.type, e.data.byteLength]),
    snapshot: m.snapshot ? { metadata: m.snapshot.metadata, bytes: m.snapshot.data.byteLength } : undefined,
  };
  const json = Buffer.from(JSON.stringify(head));
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(json.length);
  const parts: Buffer[] = [len, json];
  for (const e of m.entries) parts.push(Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength));
  if (m.snapshot)
    parts.push(Buffer.from(m.snapshot.data.buffer, m.snapshot.data.byteOffset, m.snapshot.data.byteLength));
  return parts;
}

/** Bytes a frame adds to a batch. */
export function frameBytes(parts: Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** A batch body from frames (messageFrame). */
export function encodeBatch(frames: Buffer[][]): Buffer {
  return Buffer.concat([Buffer.of(VERSION), ...frames.flat()]);
}

/** A plain Uint8Array over the same bytes (the core's payload type, API.md). */
function view(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

/** The messages of a batch body (either form). Payloads are views into `body`, not copies. */
export function decodeBatch(body: Buffer): Message[] {
  if (body.length === 0) return [];
  if (body[0] === 0x7b) return body.toString('utf8').split('\n').map(decodeMessage);
  if (body[0] !== VERSION) throw new WireError(`unknown batch version ${body[0]}`);
  const out: Message[] = [];
  let at = 1;
  const take = (n: number): Buffer => {
    if (!Number.isSafeInteger(n) || n < 0 || at + n > body.length) throw new WireError('truncated batch');
    const b = body.subarray(at, at + n);
    at += n;
    return b;
  };
  while (at < body.length) {
    const n = take(4).readUInt32BE(0);
    const head = JSON.parse(take(n).toString('utf8')) as Head;
    if (!Array.isArray(head.entries)) throw new WireError('a message without entries');
    const entries: Entry[] = head.entries.map(([term, index, type, bytes]) => ({
      term,
      index,
      type,
      data: view(take(bytes)),
    }));
    const m = { ...head, entries } as Message;
    if (head.snapshot) m.snapshot = { metadata: head.snapshot.metadata, data: view(take(head.snapshot.bytes)) };
    out.push(m);
  }
  return out;
}
