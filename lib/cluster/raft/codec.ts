// JSON form of messages and conf changes. Entry and snapshot data are Uint8Array in the
// core; on the wire (and in test transcripts) they travel as base64 strings.
import type { ConfChange, Entry, Message, Snapshot } from './types.ts';

const utf8 = new TextEncoder();
const utf8Decode = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return utf8.encode(JSON.stringify(cc));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  return JSON.parse(utf8Decode.decode(data)) as ConfChange;
}

function toB64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function fromB64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function entryToJSON(e: Entry): object {
  return { term: e.term, index: e.index, type: e.type, data: toB64(e.data) };
}

export function entryFromJSON(o: { term: number; index: number; type: Entry['type']; data: string }): Entry {
  return { term: o.term, index: o.index, type: o.type, data: fromB64(o.data) };
}

function snapshotToJSON(s: Snapshot): object {
  return { metadata: s.metadata, data: toB64(s.data) };
}

/** A message as a JSON string (Uint8Array payloads as base64). */
export function encodeMessage(m: Message): string {
  return JSON.stringify({
    ...m,
    entries: m.entries.map(entryToJSON),
    snapshot: m.snapshot ? snapshotToJSON(m.snapshot) : undefined,
  });
}

export function decodeMessage(s: string): Message {
  const o = JSON.parse(s);
  return {
    ...o,
    entries: (o.entries as Parameters<typeof entryFromJSON>[0][]).map(entryFromJSON),
    snapshot: o.snapshot ? { metadata: o.snapshot.metadata, data: fromB64(o.snapshot.data) } : undefined,
  } as Message;
}
