// The bytes of a Raft snapshot: [u32 length][member directory JSON][state machine bytes].
// The directory travels with the state so a node restored from it knows every member's address.
// The state part is empty in a snapshot that only marks a compaction (the state machine's own
// file stands for it), or a reference to a received file holding the state (fileRef).
import type { NodeId } from './raft/types.ts';

export interface Member {
  name: string;
  addr: string;
}

export function encodeSnapshot(directory: Map<NodeId, Member>, state: Uint8Array): Uint8Array {
  const dir = Buffer.from(JSON.stringify([...directory]));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(dir.length);
  return Buffer.concat([head, dir, state]);
}

export function decodeSnapshot(data: Uint8Array): { directory: Array<[NodeId, Member]>; state: Uint8Array } {
  const b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const len = b.readUInt32BE(0);
  return {
    directory: JSON.parse(b.subarray(4, 4 + len).toString()) as Array<[NodeId, Member]>,
    state: data.subarray(4 + len),
  };
}

/** A database file starts "SQLite format 3\0", so this prefix cannot be mistaken for state. */
const FILE_REF = Buffer.from('bleepstore snapshot file\0');

/** State bytes that stand for the state machine's copy in `file`. */
export function fileRef(file: string): Buffer {
  return Buffer.concat([FILE_REF, Buffer.from(file)]);
}

/** The file a state part refers to, if it is a reference. */
export function refOf(state: Uint8Array): string | undefined {
  const b = Buffer.from(state.buffer, state.byteOffset, state.byteLength);
  if (b.length <= FILE_REF.length || !b.subarray(0, FILE_REF.length).equals(FILE_REF)) return undefined;
  return b.subarray(FILE_REF.length).toString();
}
