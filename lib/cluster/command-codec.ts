// A command as a Raft log entry. Its JSON would carry an inline object's bytes as base64
// (4/3 of the size, encoded on the leader and decoded on every node); here they travel raw
// after the JSON, which holds `{"$bytes": n}` in their place:
//   [0x01][u32 JSON length][JSON][u32 length][bytes] per InlineBytes, in order
// Entries written as plain JSON by earlier versions start with '{' and still decode.
import { type Command, jsonBytesApart } from '../metadata/commands.ts';

const VERSION = 1;
const decoder = new TextDecoder();

export class CommandCodecError extends Error {
  override name = 'CommandCodecError';
}

export function encodeCommand(cmd: Command): Uint8Array {
  const { json, bytes } = jsonBytesApart(cmd);
  let size = 5 + Buffer.byteLength(json);
  for (const b of bytes) size += 4 + b.byteLength;
  const out = Buffer.allocUnsafe(size);
  out[0] = VERSION;
  const n = out.write(json, 5);
  out.writeUInt32BE(n, 1);
  let at = 5 + n;
  for (const b of bytes) {
    out.writeUInt32BE(b.byteLength, at);
    out.set(b, at + 4);
    at += 4 + b.byteLength;
  }
  return out;
}

/** The command of a log entry; inline bytes come back as `{ bytes }` (copies). */
export function decodeCommand(data: Uint8Array): Command {
  if (data[0] !== VERSION) return JSON.parse(decoder.decode(data)) as Command;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const take = (at: number): number => {
    if (at + 4 > data.byteLength) throw new CommandCodecError('truncated command entry');
    const n = view.getUint32(at);
    if (at + 4 + n > data.byteLength) throw new CommandCodecError('truncated command entry');
    return n;
  };
  const jsonBytes = take(1);
  const cmd = JSON.parse(decoder.decode(data.subarray(5, 5 + jsonBytes))) as Command;
  const blobs: Uint8Array[] = [];
  for (let at = 5 + jsonBytes; at < data.byteLength; ) {
    const n = take(at);
    // A copy: a view would keep the whole received batch (or log cache block) alive for as
    // long as anything holds the row.
    blobs.push(Buffer.from(data.subarray(at + 4, at + 4 + n)));
    at += 4 + n;
  }
  if (blobs.length === 1 && hasInlineObject(cmd)) cmd.object.inline = { bytes: blobs[0]! };
  else if (blobs.length) putBack(cmd, blobs);
  return cmd;
}

/** A PUT's command, whose one InlineBytes is its object's: put back without a walk (a generic
 *  walk over every command's shapes kept V8 deoptimizing it on every node). */
function hasInlineObject(cmd: Command): cmd is Extract<Command, { type: 'object.put' | 'upload.complete' }> {
  if (cmd.type !== 'object.put' && cmd.type !== 'upload.complete') return false;
  const inline = cmd.object.inline as { $bytes?: unknown } | null;
  return inline !== null && typeof inline === 'object' && inline.$bytes === 0;
}

function putBack(v: object, blobs: Uint8Array[]): void {
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (!x || typeof x !== 'object') continue;
    const i = (x as { $bytes?: unknown }).$bytes;
    if (typeof i === 'number') {
      const b = blobs[i];
      if (!b) throw new CommandCodecError(`command entry refers to missing bytes ${i}`);
      o[k] = { bytes: b };
    } else putBack(x, blobs);
  }
}
