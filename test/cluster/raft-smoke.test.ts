import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftNetwork } from './helpers/raft-network.ts';

test('smoke: three nodes elect a leader and commit a proposal everywhere', () => {
  const net = new RaftNetwork([1, 2, 3]);
  net.campaign(1);
  assert.deepEqual(net.leaders(), [1]);
  assert.equal(net.propose(1, 'x'), true);
  net.tickAll(2);
  for (const id of [1, 2, 3]) assert.deepEqual(net.appliedText(id), ['x']);
});
