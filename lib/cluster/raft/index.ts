// The Raft core's public surface. Pure: no I/O, no timers, no ambient randomness.
export * from './types.ts';
export { RaftNode } from './raft-node.ts';
export { message } from './raft.ts';
export { MemoryStorage, emptySnapshot } from './memory-storage.ts';
export { encodeConfChange, decodeConfChange, encodeMessage, decodeMessage } from './codec.ts';
