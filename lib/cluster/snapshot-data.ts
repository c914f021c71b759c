// The bytes of a Raft snapshot: [u32 length][member directory JSON][state machine bytes].
// The directory travels with the state so a node restored from it knows every member's address.
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
