// RaftNode: the application-facing wrapper (etcd's RawNode). Placeholder until the
// protocol lands; the API (types.ts) is final.
import type { ConfChange, ConfState, Entry, Message, NodeId, RaftConfig, RaftNodeApi, Ready, Status } from './types.ts';

function todo(): never {
  throw new Error('raft core: not implemented yet');
}

export class RaftNode implements RaftNodeApi {
  readonly config: RaftConfig;
  constructor(config: RaftConfig) {
    this.config = config;
  }
  tick(): void { todo(); }
  campaign(): void { todo(); }
  step(_msg: Message): void { todo(); }
  propose(_data: Uint8Array): boolean { todo(); }
  proposeConfChange(_cc: ConfChange): boolean { todo(); }
  applyConfChange(_cc: ConfChange): ConfState { todo(); }
  transferLeader(_transferee: NodeId): void { todo(); }
  readIndex(_ctx: string): void { todo(); }
  hasReady(): boolean { todo(); }
  ready(): Ready { todo(); }
  advance(): void { todo(); }
  reportUnreachable(_id: NodeId): void { todo(); }
  reportSnapshot(_id: NodeId, _status: 'finish' | 'failure'): void { todo(); }
  status(): Status { todo(); }
  firstIndex(): number { todo(); }
  lastIndex(): number { todo(); }
  termAt(_i: number): number | undefined { todo(); }
  entries(_lo: number, _hi: number): Entry[] { todo(); }
}
