// One test per rule of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm", §5.2-5.5, §6, §7) and of the Raft thesis (§3.10 transfer, §4 membership,
// §6.4 ReadIndex, §9.6 PreVote and CheckQuorum), run against the real core: RaftNodes over
// MemoryStorage, driven by the Ready loop, messages delivered by a deterministic network.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStorage } from '../../lib/cluster/raft/memory-storage.ts';
import { RaftNode } from '../../lib/cluster/raft/raft-node.ts';
import { message } from '../../lib/cluster/raft/raft.ts';
import { MAX_PENDING_READS } from '../../lib/cluster/raft/read-only.ts';
import type { Message, NodeId, RaftConfig, Ready } from '../../lib/cluster/raft/types.ts';
import { entrySize } from '../../lib/cluster/raft/util.ts';
import { RaftNetwork, bytes, presetStorage, seeded, text, type PresetLog } from './helpers/raft-network.ts';

const VOTERS = [1, 2, 3];

function rawNode(
  id: NodeId,
  opts: Partial<RaftConfig> & { log?: PresetLog; voters?: NodeId[] } = {},
): { node: RaftNode; storage: MemoryStorage } {
  const voters = opts.voters ?? VOTERS;
  const storage = opts.log
    ? presetStorage(voters, opts.learners ?? [], opts.log)
    : new MemoryStorage({ voters, learners: opts.learners ?? [] });
  const node = new RaftNode({ electionTick: 10, heartbeatTick: 1, random: seeded(id), ...opts, id, storage, voters });
  return { node, storage };
}

/** Runs one Ready through storage and returns it. */
function drain(node: RaftNode, storage: MemoryStorage): Ready {
  const rd = node.ready();
  storage.save(rd);
  node.advance();
  return rd;
}

function sent(node: RaftNode, storage: MemoryStorage): Message[] {
  const out: Message[] = [];
  while (node.hasReady()) out.push(...drain(node, storage).messages);
  return out;
}

function logTerms(node: RaftNode): number[] {
  return node.entries(node.firstIndex(), node.lastIndex() + 1).map((e) => e.term);
}

function elect(net: RaftNetwork, id: NodeId): void {
  net.campaign(id);
  assert.deepEqual(net.leaders(), [id]);
}

describe('§5.2 leader election', () => {
  test('a follower that hears from no leader for its election timeout becomes a candidate, increments its term and votes for itself', () => {
    const { node, storage } = rawNode(1);
    let ticks = 0;
    while (node.status().role === 'follower' && ticks < 100) {
      node.tick();
      ticks++;
    }
    assert.equal(node.status().role, 'candidate');
    assert.ok(ticks >= 10 && ticks < 20, `campaigned after ${ticks} ticks`);
    assert.equal(node.status().term, 1);
    assert.equal(node.status().vote, 1);
    const rd = drain(node, storage);
    assert.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 0 });
    assert.equal(rd.mustSync, true);
    const votes = rd.messages.filter((m) => m.type === 'MsgVote');
    assert.deepEqual(
      votes.map((m) => [m.to, m.term, m.index, m.logTerm]),
      [
        [2, 1, 0, 0],
        [3, 1, 0, 0],
      ],
    );
  });

  test('election timeouts are drawn from the injected random source: same seed, same timeout; seeds spread over [electionTick, 2·electionTick)', () => {
    const timeout = (seed: number): number => {
      const node = new RaftNode({
        id: 1,
        voters: VOTERS,
        electionTick: 10,
        heartbeatTick: 1,
        storage: new MemoryStorage(),
        random: seeded(seed),
      });
      let t = 0;
      while (node.status().role === 'follower') {
        node.tick();
        t++;
      }
      return t;
    };
    const seen = new Set<number>();
    for (let seed = 1; seed <= 60; seed++) {
      const t = timeout(seed);
      assert.ok(t >= 10 && t < 20, `seed ${seed}: ${t}`);
      assert.equal(timeout(seed), t);
      seen.add(t);
    }
    assert.ok(seen.size >= 6, `only ${seen.size} distinct timeouts`);
  });

  test('a candidate that receives votes from a majority becomes leader and announces itself with an empty entry of its term', () => {
    const { node, storage } = rawNode(1);
    node.campaign();
    drain(node, storage);
    node.step(message('MsgVoteResp', { from: 2, to: 1, term: 1 }));
    assert.equal(node.status().role, 'leader');
    const apps = sent(node, storage).filter((m) => m.type === 'MsgApp');
    assert.deepEqual(
      apps.map((m) => m.to),
      [2, 3],
    );
    for (const m of apps)
      assert.deepEqual(
        m.entries.map((e) => [e.term, e.index, e.data.length]),
        [[1, 1, 0]],
      );
  });

  test('a node grants at most one vote per term, to the first candidate that asks', () => {
    const { node, storage } = rawNode(1);
    node.step(message('MsgVote', { from: 2, to: 1, term: 1 }));
    node.step(message('MsgVote', { from: 3, to: 1, term: 1 }));
    node.step(message('MsgVote', { from: 2, to: 1, term: 1 })); // a retransmission
    const resps = sent(node, storage).filter((m) => m.type === 'MsgVoteResp');
    assert.deepEqual(
      resps.map((m) => [m.to, m.reject]),
      [
        [2, false],
        [3, true],
        [2, false],
      ],
    );
    assert.equal(storage.hardState.vote, 2);
  });

  test('a node holding its votes (its durable state was lost) rejects every MsgVote until the hold ticks out, except a leadership transfer', () => {
    const { node, storage } = rawNode(1);
    node.holdVotes(3);
    node.step(message('MsgVote', { from: 2, to: 1, term: 1 }));
    node.step(message('MsgVote', { from: 3, to: 1, term: 2, context: 'transfer' }));
    node.tick();
    node.tick();
    node.step(message('MsgVote', { from: 2, to: 1, term: 3 }));
    node.tick(); // the third tick ends the hold
    node.step(message('MsgVote', { from: 2, to: 1, term: 4 }));
    const resps = sent(node, storage).filter((m) => m.type === 'MsgVoteResp');
    assert.deepEqual(
      resps.map((m) => [m.to, m.term, m.reject]),
      [
        [2, 1, true],
        [3, 2, false],
        [2, 3, true],
        [2, 4, false],
      ],
    );
    assert.equal(storage.hardState.vote, 2);
  });

  test('a candidate that hears from a leader of its own term returns to follower', () => {
    const { node, storage } = rawNode(1);
    node.campaign();
    drain(node, storage);
    node.step(message('MsgApp', { from: 2, to: 1, term: 1, index: 0, logTerm: 0 }));
    assert.equal(node.status().role, 'follower');
    assert.equal(node.status().lead, 2);
  });

  test('a candidate rejected by a majority returns to follower', () => {
    const { node, storage } = rawNode(1);
    node.campaign();
    drain(node, storage);
    node.step(message('MsgVoteResp', { from: 2, to: 1, term: 1, reject: true }));
    assert.equal(node.status().role, 'candidate');
    node.step(message('MsgVoteResp', { from: 3, to: 1, term: 1, reject: true }));
    assert.equal(node.status().role, 'follower');
  });

  test('a leader that sees a higher term adopts it and steps down', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.get(1).step(message('MsgAppResp', { from: 2, to: 1, term: 7 }));
    assert.equal(net.get(1).status().role, 'follower');
    assert.equal(net.get(1).status().term, 7);
    assert.equal(net.get(1).status().vote, 0);
  });

  test('a message from an earlier term is ignored', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1], term: 2 } });
    node.step(
      message('MsgApp', {
        from: 3,
        to: 1,
        term: 1,
        index: 1,
        logTerm: 1,
        entries: [{ term: 1, index: 2, type: 'normal', data: bytes('old') }],
      }),
    );
    assert.equal(node.lastIndex(), 1);
    assert.deepEqual(sent(node, storage), []);
  });

  test('a network message without a term (other than a forwarded request) is dropped', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1], term: 1 } });
    node.step(
      message('MsgApp', {
        from: 2,
        to: 1,
        term: 0,
        index: 1,
        logTerm: 1,
        entries: [{ term: 1, index: 2, type: 'normal', data: bytes('x') }],
      }),
    );
    node.step(message('MsgHup', { from: 2, to: 1, term: 0 }));
    assert.equal(node.lastIndex(), 1);
    assert.equal(node.status().role, 'follower');
    assert.deepEqual(sent(node, storage), []);
  });

  test('a split vote ends without a leader and a later election in a higher term elects one', () => {
    const net = new RaftNetwork([1, 2, 3, 4]);
    net.get(1).campaign();
    net.get(2).campaign();
    // 3 hears only from 1, 4 only from 2: two votes each, three needed.
    net.filter = (m) => !(m.type === 'MsgVote' && ((m.from === 1 && m.to === 4) || (m.from === 2 && m.to === 3)));
    net.stabilize();
    assert.deepEqual(net.leaders(), []);
    net.heal();
    for (let i = 0; i < 100 && net.leaders().length === 0; i++) net.tickAll();
    assert.equal(net.leaders().length, 1);
    assert.ok(net.get(net.leaders()[0]!).status().term >= 2);
  });

  test('heartbeats every heartbeatTick keep followers from campaigning while the leader is up', () => {
    const net = new RaftNetwork(VOTERS, { heartbeatTick: 2 });
    elect(net, 1);
    net.tickAll(200);
    assert.deepEqual(net.leaders(), [1]);
    for (const id of VOTERS) assert.equal(net.get(id).status().term, 1);
  });
});

describe('§5.3 log replication', () => {
  test('a leader commits an entry once a majority of voters stored it, and not before', () => {
    const net = new RaftNetwork([1, 2, 3, 4, 5]);
    elect(net, 1);
    net.isolate(4);
    net.isolate(5);
    net.propose(1, 'x');
    assert.deepEqual(net.appliedText(1), ['x']);
    assert.deepEqual(net.appliedText(2), ['x']);
    net.isolate(3);
    const before = net.get(1).status().commit;
    net.propose(1, 'y');
    net.tickAll(5);
    assert.equal(net.get(1).status().commit, before);
    assert.deepEqual(net.appliedText(1), ['x']);
    net.heal();
    net.tickAll(5);
    for (const id of [1, 2, 3, 4, 5]) assert.deepEqual(net.appliedText(id), ['x', 'y']);
  });

  test('a follower refuses AppendEntries whose previous entry it lacks, hinting where its log could match', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1, 1], term: 1 } });
    node.step(message('MsgApp', { from: 2, to: 1, term: 2, index: 5, logTerm: 2 }));
    const [resp] = sent(node, storage);
    assert.equal(resp!.type, 'MsgAppResp');
    assert.equal(resp!.reject, true);
    assert.equal(resp!.index, 5);
    assert.equal(resp!.rejectHint, 2);
    assert.equal(resp!.logTerm, 1);
  });

  test("a follower replaces a conflicting suffix with the leader's entries and keeps the matching prefix", () => {
    const { node, storage } = rawNode(1, { log: { terms: [1, 1, 2, 2], term: 2 } });
    node.step(
      message('MsgApp', {
        from: 2,
        to: 1,
        term: 3,
        index: 2,
        logTerm: 1,
        entries: [{ term: 3, index: 3, type: 'normal', data: bytes('new') }],
      }),
    );
    sent(node, storage);
    assert.deepEqual(logTerms(node), [1, 1, 3]);
    assert.equal(storage.lastIndex(), 3);
    assert.equal(text(storage.entries(3, 4, 1e9)[0]!.data), 'new');
  });

  test('a duplicated or reordered AppendEntries never truncates entries a follower already holds', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1, 1, 1, 1], term: 1 } });
    node.step(
      message('MsgApp', {
        from: 2,
        to: 1,
        term: 1,
        index: 1,
        logTerm: 1,
        entries: [{ term: 1, index: 2, type: 'normal', data: bytes('t1i2') }],
      }),
    );
    const [resp] = sent(node, storage);
    assert.equal(resp!.reject, false);
    assert.equal(node.lastIndex(), 4);
  });

  // Figure 7: the leader of term 8 and six possible follower logs (a)-(f).
  const LEADER_LOG = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const FOLLOWERS: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };
  for (const [name, terms] of Object.entries(FOLLOWERS)) {
    test(`log matching: the leader of Figure 7 brings follower (${name}) to exactly its own log`, () => {
      let rejections = 0;
      const net = new RaftNetwork(VOTERS, {
        logs: { 1: { terms: LEADER_LOG, term: 7, commit: 3 }, 2: { terms, term: 7, commit: 3 } },
      });
      net.isolate(3);
      net.get(1).campaign();
      net.process(1);
      // Node 3 (cut off) stands for the voter whose grant makes 1 leader of term 8.
      net.get(1).step(message('MsgVoteResp', { from: 3, to: 1, term: 8 }));
      net.filter = (m) => {
        if (m.type === 'MsgAppResp' && m.reject) rejections++;
        return true;
      };
      net.stabilize();
      assert.equal(net.get(1).status().role, 'leader');
      assert.deepEqual(logTerms(net.get(2)), [...LEADER_LOG, 8]);
      assert.deepEqual(logTerms(net.get(2)), logTerms(net.get(1)));
      // Fast backtracking (end of §5.3): at most one rejection per conflicting term.
      assert.ok(rejections <= 2, `${rejections} rejections`);
    });
  }

  test('a leader never overwrites or deletes entries in its own log (append-only)', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.propose(1, 'a');
    const before = logTerms(net.get(1));
    const leader = net.get(1);
    leader.step(
      message('MsgApp', {
        from: 2,
        to: 1,
        term: 1,
        index: 0,
        logTerm: 0,
        entries: [{ term: 1, index: 1, type: 'normal', data: bytes('evil') }],
      }),
    );
    leader.step(message('MsgAppResp', { from: 2, to: 1, term: 1, index: 1, reject: true, rejectHint: 0 }));
    net.stabilize();
    assert.deepEqual(logTerms(leader).slice(0, before.length), before);
    assert.deepEqual(
      leader
        .entries(1, leader.lastIndex() + 1)
        .map((e) => text(e.data))
        .filter(Boolean),
      ['a'],
    );
  });

  test('flow control: a leader keeps at most maxInflightMsgs appends unacknowledged per follower', () => {
    const net = new RaftNetwork(VOTERS, { maxInflightMsgs: 3 });
    elect(net, 1);
    let apps = 0;
    net.filter = (m) => {
      if (m.type === 'MsgApp' && m.to === 2 && m.entries.length > 0) apps++;
      return m.type !== 'MsgAppResp'; // acknowledgements are lost
    };
    for (let i = 0; i < 10; i++) net.propose(1, `p${i}`);
    assert.equal(apps, 3);
    assert.equal(net.get(1).status().progress![2]!.inflight, 3);
    net.heal();
    net.tickAll(3);
    for (const id of VOTERS) assert.equal(net.appliedText(id).length, 10);
  });

  test('flow control: a leader keeps at most maxInflightBytes of entries unacknowledged per follower', () => {
    const net = new RaftNetwork(VOTERS, { maxInflightBytes: 1000 });
    elect(net, 1);
    let apps = 0;
    net.filter = (m) => {
      if (m.type === 'MsgApp' && m.to === 2 && m.entries.length > 0) apps++;
      return m.type !== 'MsgAppResp';
    };
    for (let i = 0; i < 10; i++) net.propose(1, 'x'.repeat(400));
    assert.equal(apps, 3); // 400 + 400 + 400 ≥ 1000
  });

  test('each MsgApp carries at most maxSizePerMsg bytes of entries, but always at least one entry', () => {
    const net = new RaftNetwork(VOTERS, { maxSizePerMsg: 250 });
    elect(net, 1);
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.propose(1, 'y'.repeat(100));
    net.propose(1, 'z'.repeat(1000));
    net.heal();
    const sizes: number[][] = [];
    net.filter = (m) => {
      if (m.type === 'MsgApp' && m.to === 3 && m.entries.length > 0) sizes.push(m.entries.map(entrySize));
      return true;
    };
    net.tickAll(5);
    assert.equal(net.appliedText(3).length, 11);
    for (const s of sizes) {
      assert.ok(s.length >= 1);
      if (s.length > 1) assert.ok(s.reduce((a, b) => a + b, 0) <= 250, `${s}`);
    }
    assert.ok(
      sizes.some((s) => s.length === 1 && s[0]! > 250),
      'the oversized entry travelled alone',
    );
  });
});

describe('§5.4 safety', () => {
  test('a voter refuses a candidate whose last log term is lower, or equal with a shorter log (election restriction)', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1, 2], term: 2 } });
    node.step(message('MsgVote', { from: 2, to: 1, term: 3, index: 5, logTerm: 1 }));
    node.step(message('MsgVote', { from: 2, to: 1, term: 3, index: 1, logTerm: 2 }));
    node.step(message('MsgVote', { from: 3, to: 1, term: 3, index: 2, logTerm: 2 }));
    const resps = sent(node, storage).filter((m) => m.type === 'MsgVoteResp');
    assert.deepEqual(
      resps.map((m) => [m.from === 1 && m.to, m.reject]),
      [
        [2, true],
        [2, true],
        [3, false],
      ],
    );
  });

  test('leader completeness: a node missing a committed entry cannot become leader, and the next leader holds the entry', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.isolate(3);
    net.propose(1, 'x');
    assert.deepEqual(net.appliedText(2), ['x']);
    net.heal();
    net.isolate(1);
    net.get(3).campaign();
    net.stabilize();
    assert.notEqual(net.get(3).status().role, 'leader');
    for (let i = 0; i < 100 && net.leaders().filter((id) => id !== 1).length === 0; i++) {
      net.tick(2);
      net.tick(3);
      net.stabilize();
    }
    assert.ok(net.leaders().includes(2), `leaders ${net.leaders()}`);
    net.tickAll(3);
    assert.deepEqual(net.appliedText(3), ['x']);
  });

  /** Figure 8, states (a)-(c): S1 leads term 4 and has just copied its term-2 entry at index
   *  2 onto a majority (S1, S2, S3); its own term-4 entry has reached nobody. */
  function figure8(bugs: RaftConfig['testBugs'] = {}): RaftNetwork {
    const net = new RaftNetwork([1, 2, 3, 4, 5], {
      maxSizePerMsg: 1,
      testBugs: bugs,
      logs: {
        1: { terms: [1, 2], term: 3, commit: 1 },
        2: { terms: [1, 2], term: 3, commit: 1 },
        3: { terms: [1], term: 3, commit: 1 },
        4: { terms: [1], term: 3, commit: 1 },
        5: { terms: [1, 3], term: 3, commit: 1 },
      },
    });
    net.isolate(5);
    // Strip S1's term-4 entries from its appends: only index 2 spreads.
    net.filter = (m) => {
      if (m.type === 'MsgApp') m.entries = m.entries.filter((e) => e.term !== 4);
      return true;
    };
    net.campaign(1);
    assert.deepEqual(net.leaders(), [1]);
    assert.equal(net.get(3).termAt(2), 2);
    return net;
  }

  test('Figure 8: a leader does not commit an entry of an earlier term by counting replicas', () => {
    const net = figure8();
    assert.equal(net.get(1).status().commit, 1);
    // (d): S1 crashes; S5 wins term 5 with S2, S3, S4 and overwrites index 2 everywhere —
    // harmless, because index 2 was never committed.
    net.heal();
    net.isolate(1);
    net.campaign(5);
    net.campaign(5);
    assert.deepEqual(
      net.leaders().filter((id) => id !== 1),
      [5],
    );
    net.stabilize();
    for (const id of [2, 3, 4]) assert.equal(net.get(id).termAt(2), 3);
    for (const id of [2, 3, 4, 5]) assert.deepEqual(net.appliedText(id), ['t1i1', 't3i2']);
  });

  test('Figure 8 (e): once an entry of the current term commits, the earlier-term entries before it commit with it', () => {
    const net = figure8();
    net.heal();
    net.isolate(5);
    net.tickAll(3);
    assert.equal(net.get(1).status().commit, 3);
    for (const id of [1, 2, 3, 4]) assert.deepEqual(net.appliedText(id), ['t1i1', 't2i2']);
  });

  test('with testBugs.commitPreviousTermByCount the Figure 8 scenario loses a committed entry', () => {
    const net = figure8({ commitPreviousTermByCount: true });
    assert.equal(net.get(1).status().commit, 2); // the planted bug: committed by counting
    assert.deepEqual(net.appliedText(1), ['t1i1', 't2i2']);
    net.heal();
    net.isolate(1);
    // S5 (whose log lacks the "committed" entry) still wins term 5 and commits its own,
    // different entry at index 2: two nodes applied different commands at one index.
    net.get(5).campaign();
    net.run(20);
    net.get(5).campaign();
    net.run(20);
    assert.equal(net.get(5).status().role, 'leader');
    assert.ok(net.get(5).status().commit >= 2);
    assert.deepEqual(net.appliedText(5).slice(0, 2), ['t1i1', 't3i2']);
  });
});

describe('§5.5 crashes', () => {
  test('a restarted node recovers term, vote and log from storage and does not vote twice in a term', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1, 1], term: 1 } });
    node.step(message('MsgVote', { from: 2, to: 1, term: 2, index: 2, logTerm: 1 }));
    sent(node, storage);
    const again = new RaftNode({
      id: 1,
      voters: VOTERS,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      random: seeded(9),
    });
    assert.deepEqual([again.status().term, again.status().vote, again.lastIndex()], [2, 2, 2]);
    again.step(message('MsgVote', { from: 3, to: 1, term: 2, index: 2, logTerm: 1 }));
    const [resp] = sent(again, storage);
    assert.equal(resp!.reject, true);
  });

  test('a follower restarted after a crash catches up with what was committed while it was down', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.propose(1, 'a');
    net.isolate(3);
    net.propose(1, 'b');
    net.restart(3);
    net.heal();
    net.tickAll(3);
    assert.deepEqual(net.appliedText(3), ['a', 'b']);
  });
});

describe('§6 membership changes (one server at a time, learners first)', () => {
  function withLearner(): RaftNetwork {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.propose(1, 'a');
    // A joining server starts with an empty log and an empty configuration: every
    // conf-change entry carries the whole membership after it.
    net.add(4);
    assert.equal(net.get(1).proposeConfChange({ type: 'addLearner', nodeId: 4 }), true);
    net.stabilize();
    net.tickAll(3);
    return net;
  }

  test('a new server joins as a learner, receives the whole log, and is promoted with addNode once caught up', () => {
    const net = withLearner();
    assert.deepEqual(net.get(1).status().confState, { voters: [1, 2, 3], learners: [4] });
    assert.deepEqual(net.appliedText(4), ['a']);
    assert.deepEqual(net.get(4).status().confState, { voters: [1, 2, 3], learners: [4] });
    assert.equal(net.get(1).proposeConfChange({ type: 'addNode', nodeId: 4 }), true);
    net.stabilize();
    net.tickAll(2);
    for (const id of [1, 2, 3, 4])
      assert.deepEqual(net.get(id).status().confState, { voters: [1, 2, 3, 4], learners: [] });
  });

  test('a learner that has not caught up is not promoted', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.add(4);
    net.isolate(4);
    net.get(1).proposeConfChange({ type: 'addLearner', nodeId: 4 });
    net.stabilize();
    net.propose(1, 'a');
    assert.equal(net.get(1).proposeConfChange({ type: 'addNode', nodeId: 4 }), false);
    assert.equal(net.get(1).proposeConfChange({ type: 'addNode', nodeId: 5 }), false); // never a learner
  });

  test('a learner never starts an election', () => {
    const net = withLearner();
    net.isolate(4);
    net.tick(4, 100);
    assert.equal(net.get(4).status().role, 'follower');
    assert.equal(net.get(4).status().term, 1);
  });

  test("a candidate does not count a learner's vote toward its quorum", () => {
    const { node, storage } = rawNode(1, { learners: [4] });
    node.campaign();
    assert.deepEqual(
      sent(node, storage).map((m) => m.to),
      [2, 3],
    ); // no vote request to the learner
    node.step(message('MsgVoteResp', { from: 4, to: 1, term: 1 }));
    assert.equal(node.status().role, 'candidate');
    node.step(message('MsgVoteResp', { from: 2, to: 1, term: 1 }));
    assert.equal(node.status().role, 'leader');
  });

  test("a learner's acknowledgement does not count toward commitment", () => {
    const net = new RaftNetwork([1, 2, 3], { voters: [1, 2], learners: [3] });
    elect(net, 1);
    net.isolate(2);
    net.propose(1, 'x');
    assert.equal(net.get(3).lastIndex(), net.get(1).lastIndex()); // the learner has it...
    assert.deepEqual(net.appliedText(1), []); // ...but it is not committed
  });

  test('only one membership change is in flight: a second is refused until the first is applied', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.add(4);
    net.add(5);
    assert.equal(net.get(1).proposeConfChange({ type: 'addLearner', nodeId: 4 }), true);
    assert.equal(net.get(1).proposeConfChange({ type: 'addLearner', nodeId: 5 }), false);
    net.stabilize();
    assert.equal(net.get(1).proposeConfChange({ type: 'addLearner', nodeId: 5 }), true);
  });

  test('promoting a learner raises the quorum: two of four voters no longer commit', () => {
    const net = withLearner();
    net.get(1).proposeConfChange({ type: 'addNode', nodeId: 4 });
    net.stabilize();
    net.isolate(3);
    net.isolate(4);
    net.propose(1, 'b');
    net.tickAll(3);
    assert.deepEqual(net.appliedText(1), ['a']);
  });

  test('removing a follower shrinks the quorum so the others commit without it', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.get(1).proposeConfChange({ type: 'removeNode', nodeId: 3 });
    net.stabilize();
    net.isolate(3);
    net.isolate(2);
    net.propose(1, 'x');
    assert.deepEqual(net.appliedText(1), []); // {1, 2} still needs 2
    net.heal();
    net.isolate(3);
    net.tickAll(2);
    assert.deepEqual(net.appliedText(1), ['x']);
    assert.deepEqual(net.get(1).status().confState.voters, [1, 2]);
  });

  test('removing a voter commits at once an entry already held by a majority of the remaining voters', () => {
    const net = new RaftNetwork([1, 2, 3, 4]);
    elect(net, 1);
    const leader = net.get(1);
    assert.equal(leader.proposeConfChange({ type: 'removeNode', nodeId: 4 }), true);
    assert.equal(leader.propose(bytes('e')), true);
    const e = leader.lastIndex();
    // 3 and 4 never get e: in {1,2,3,4} two copies are no quorum, in {1,2,3} they are.
    net.filter = (m) => !(m.type === 'MsgApp' && (m.to === 3 || m.to === 4) && m.entries.some((x) => x.index === e));
    net.process(1);
    net.deliverRound(); // appends reach the followers
    net.deliverRound(false); // every acknowledgement reaches the leader before it applies
    net.process(1);
    assert.deepEqual(leader.status().confState.voters, [1, 2, 3]);
    assert.deepEqual(net.appliedText(1), ['e']);
  });

  test('a leader removed from the configuration steps down once the removal commits, and the others elect a new leader', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.get(1).proposeConfChange({ type: 'removeNode', nodeId: 1 });
    net.stabilize();
    assert.equal(net.get(1).status().role, 'follower');
    for (let i = 0; i < 100 && net.leaders().length === 0; i++) net.tickAll();
    const [lead] = net.leaders();
    assert.ok(lead === 2 || lead === 3);
    net.propose(lead!, 'after');
    assert.deepEqual(net.appliedText(lead === 2 ? 3 : 2), ['after']);
  });
});

describe('§7 log compaction and InstallSnapshot', () => {
  function compactedLeader(): RaftNetwork {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.isolate(3);
    for (let i = 0; i < 10; i++) net.propose(1, `e${i}`);
    const m = net.members.get(1)!;
    const applied = m.node.status().applied;
    m.storage.createSnapshot(applied, m.node.status().confState, bytes('state'));
    m.storage.compact(applied);
    return net;
  }

  test("a follower behind the leader's compacted log is brought up by a snapshot, then by the entries after it", () => {
    const net = compactedLeader();
    const snapIndex = net.members.get(1)!.storage.snapshot().metadata.index;
    net.heal();
    net.propose(1, 'after');
    net.tickAll(3);
    const s3 = net.members.get(3)!.storage;
    assert.equal(s3.snapshot().metadata.index, snapIndex);
    assert.equal(text(s3.snapshot().data), 'state');
    assert.equal(net.get(3).lastIndex(), net.get(1).lastIndex());
    assert.deepEqual(net.appliedText(3), ['after']);
  });

  test('a lost snapshot is sent again after an election timeout', () => {
    const net = compactedLeader();
    net.heal();
    let snaps = 0;
    net.filter = (m) => !(m.type === 'MsgSnap' && ++snaps === 1);
    net.tickAll(30);
    assert.ok(snaps >= 2, `${snaps} snapshots sent`);
    assert.equal(net.get(3).lastIndex(), net.get(1).lastIndex());
  });

  test('with snapshotRetryTicks 0 the leader waits for reportSnapshot instead of resending', () => {
    const net = new RaftNetwork(VOTERS, { snapshotRetryTicks: 0 });
    elect(net, 1);
    net.isolate(3);
    for (let i = 0; i < 3; i++) net.propose(1, `e${i}`);
    const m = net.members.get(1)!;
    m.storage.createSnapshot(m.node.status().applied, m.node.status().confState, bytes('state'));
    m.storage.compact(m.node.status().applied);
    net.heal();
    let snaps = 0;
    let lose = true;
    net.filter = (msg) => !(msg.type === 'MsgSnap' && ++snaps > 0 && lose);
    net.tickAll(50);
    assert.equal(snaps, 1);
    assert.equal(m.node.status().progress![3]!.state, 'snapshot');
    m.node.reportSnapshot(3, 'failure'); // the transport gave up: probe, then send it again
    lose = false;
    net.tickAll(3);
    assert.equal(snaps, 2);
    assert.equal(net.get(3).lastIndex(), net.get(1).lastIndex());
  });

  test('a follower ignores a snapshot older than its commit index', () => {
    const { node, storage } = rawNode(1, { log: { terms: [1, 1, 1, 1, 1], term: 1, commit: 5 } });
    node.step(
      message('MsgSnap', {
        from: 2,
        to: 1,
        term: 1,
        snapshot: { metadata: { index: 3, term: 1, confState: { voters: VOTERS, learners: [] } }, data: bytes('s') },
      }),
    );
    const rd = drain(node, storage);
    assert.equal(rd.snapshot, undefined);
    assert.equal(rd.messages[0]!.index, 5);
  });
});

describe('thesis §9.6 PreVote and CheckQuorum', () => {
  function partitionedRejoin(opts: { preVote?: boolean; checkQuorum?: boolean }): RaftNetwork {
    const net = new RaftNetwork(VOTERS, opts);
    elect(net, 1);
    net.propose(1, 'a');
    net.isolate(3);
    net.tick(3, 100);
    net.heal();
    net.tickAll(20);
    return net;
  }

  test('with PreVote, a node cut off from the cluster does not raise its term, and rejoining does not disturb the leader', () => {
    const net = partitionedRejoin({ preVote: true });
    assert.deepEqual(net.leaders(), [1]);
    for (const id of VOTERS) assert.equal(net.get(id).status().term, 1);
  });

  test('with PreVote and CheckQuorum, a rejoining partitioned node does not depose a healthy leader', () => {
    const net = partitionedRejoin({ preVote: true, checkQuorum: true });
    assert.deepEqual(net.leaders(), [1]);
    assert.equal(net.get(1).status().term, 1);
  });

  test('without PreVote, the same rejoining node forces an election in a higher term (the disruption PreVote prevents)', () => {
    const net = partitionedRejoin({});
    assert.ok(net.get(1).status().term > 1);
  });

  test("a pre-vote changes neither the voter's term nor its vote", () => {
    const { node, storage } = rawNode(1, { preVote: true });
    node.step(message('MsgPreVote', { from: 2, to: 1, term: 5 }));
    const [resp] = sent(node, storage);
    assert.deepEqual([resp!.type, resp!.reject, resp!.term], ['MsgPreVoteResp', false, 5]);
    assert.deepEqual([node.status().term, node.status().vote], [0, 0]);
  });

  test('with PreVote, a node whose log is behind cannot win the pre-vote and never raises the term', () => {
    const net = new RaftNetwork(VOTERS, { preVote: true });
    elect(net, 1);
    net.isolate(3);
    net.propose(1, 'x');
    net.heal();
    net.isolate(1);
    net.get(3).campaign();
    net.stabilize();
    assert.equal(net.get(3).status().role, 'preCandidate'); // 2 refused, 1 is gone
    assert.equal(net.get(2).status().term, 1);
    assert.equal(net.get(3).status().term, 1);
    for (let i = 0; i < 100 && net.leaders().filter((id) => id !== 1).length === 0; i++) {
      net.tick(2);
      net.tick(3);
      net.stabilize();
    }
    assert.ok(net.leaders().includes(2));
  });

  test('with CheckQuorum, a leader that cannot hear from a majority steps down within an election timeout', () => {
    const net = new RaftNetwork(VOTERS, { checkQuorum: true });
    elect(net, 1);
    net.isolate(1);
    net.tick(1, 2 * 10);
    assert.equal(net.get(1).status().role, 'follower');
  });

  test('without CheckQuorum, a leader cut off from the majority stays leader (the case CheckQuorum fixes)', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.isolate(1);
    net.tick(1, 50);
    assert.equal(net.get(1).status().role, 'leader');
  });

  test('with CheckQuorum, a follower that hears from its leader ignores a vote request of a higher term (leader lease)', () => {
    const net = new RaftNetwork(VOTERS, { checkQuorum: true });
    elect(net, 1);
    const f = net.get(2);
    f.step(message('MsgVote', { from: 3, to: 2, term: 9, index: 99, logTerm: 9 }));
    assert.deepEqual([f.status().term, f.status().vote, f.status().lead], [1, 1, 1]);
    net.process(2);
    assert.equal(net.queue.filter((m) => m.type === 'MsgVoteResp').length, 0);
  });

  test('with CheckQuorum alone, a node stuck at a higher term is freed: the leader learns the term and the cluster re-elects', () => {
    const net = partitionedRejoin({ checkQuorum: true });
    const t3 = net.get(3).status().term;
    for (let i = 0; i < 100 && net.leaders().length !== 1; i++) net.tickAll();
    assert.equal(net.leaders().length, 1);
    assert.ok(net.get(net.leaders()[0]!).status().term >= t3);
  });
});

describe('thesis §3.10 leadership transfer', () => {
  test('transferring leadership to an up-to-date follower makes it leader in the next term', () => {
    const net = new RaftNetwork(VOTERS, { preVote: true, checkQuorum: true });
    elect(net, 1);
    net.get(1).transferLeader(2);
    net.stabilize();
    assert.deepEqual(net.leaders(), [2]);
    assert.equal(net.get(2).status().term, 2);
  });

  test('a transfer to a lagging follower first catches it up, then hands over', () => {
    const net = new RaftNetwork(VOTERS, { preVote: true, checkQuorum: true });
    elect(net, 1);
    net.isolate(3);
    net.propose(1, 'a');
    net.propose(1, 'b');
    net.heal();
    net.get(1).transferLeader(3);
    net.stabilize();
    assert.deepEqual(net.leaders(), [3]);
    net.tickAll(2);
    assert.deepEqual(net.appliedText(3), ['a', 'b']);
  });

  test('a follower forwards a transfer request to the leader', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.get(3).transferLeader(3);
    net.stabilize();
    assert.deepEqual(net.leaders(), [3]);
  });

  test('proposals are refused while a transfer is under way; an unfinished transfer is abandoned after an election timeout', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.isolate(3);
    net.get(1).transferLeader(3);
    net.stabilize();
    assert.equal(net.get(1).status().leadTransferee, 3);
    assert.equal(net.propose(1, 'x'), false);
    net.tick(1, 10);
    assert.equal(net.get(1).status().leadTransferee, 0);
    assert.equal(net.propose(1, 'x'), true);
  });

  test('a transfer to a learner is ignored', () => {
    const net = new RaftNetwork([1, 2, 3], { voters: [1, 2], learners: [3] });
    elect(net, 1);
    net.get(1).transferLeader(3);
    net.stabilize();
    assert.deepEqual(net.leaders(), [1]);
    assert.equal(net.get(1).status().leadTransferee, 0);
  });
});

describe('thesis §6.4 ReadIndex', () => {
  test('ReadIndex on the leader answers with the commit index only after a quorum of heartbeats confirms leadership', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.propose(1, 'x');
    net.get(1).readIndex('r1');
    net.process(1);
    assert.deepEqual(net.members.get(1)!.readStates, []);
    net.stabilize();
    assert.deepEqual(net.members.get(1)!.readStates, [{ index: net.get(1).status().commit, requestCtx: 'r1' }]);
  });

  test("ReadIndex on a follower is forwarded and answered with the leader's commit index", () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    net.propose(1, 'x');
    net.get(2).readIndex('r2');
    net.stabilize();
    assert.deepEqual(net.members.get(2)!.readStates, [{ index: net.get(1).status().commit, requestCtx: 'r2' }]);
  });

  test('a leader cut off from the majority answers no ReadIndex, so it serves no stale read', () => {
    const net = new RaftNetwork([1, 2, 3, 4, 5]);
    elect(net, 1);
    // Only 2 answers heartbeats: two of five is no quorum.
    for (const id of [3, 4, 5]) {
      net.cut.add(`1→${id}`);
      net.cut.add(`${id}→1`);
    }
    net.get(1).readIndex('r');
    net.stabilize();
    net.tick(1, 5);
    assert.deepEqual(net.members.get(1)!.readStates, []);
  });

  test('a leader holds at most MAX_PENDING_READS read requests; more are dropped for the client to retry', () => {
    const net = new RaftNetwork(VOTERS);
    elect(net, 1);
    // All requests arrive before any heartbeat is answered.
    for (let i = 0; i < MAX_PENDING_READS + 10; i++) net.get(1).readIndex(`r${i}`);
    net.stabilize();
    const rs = net.members.get(1)!.readStates;
    assert.equal(rs.length, MAX_PENDING_READS);
    assert.equal(rs[rs.length - 1]!.requestCtx, `r${MAX_PENDING_READS - 1}`);
  });

  test('a new leader defers ReadIndex until an entry of its own term is committed', () => {
    const net = new RaftNetwork(VOTERS);
    net.filter = (m) => m.type !== 'MsgAppResp';
    elect(net, 1);
    net.get(1).readIndex('r');
    net.stabilize();
    assert.deepEqual(net.members.get(1)!.readStates, []);
    net.heal();
    net.tickAll(3);
    const rs = net.members.get(1)!.readStates;
    assert.equal(rs.length, 1);
    assert.equal(rs[0]!.index, 1); // the leader's empty entry of term 1
  });
});

describe('planted bugs (testBugs) do what they say', () => {
  test('testBugs.doubleVote makes a node grant a second vote in the same term', () => {
    const { node, storage } = rawNode(1, { testBugs: { doubleVote: true } });
    node.step(message('MsgVote', { from: 2, to: 1, term: 1 }));
    node.step(message('MsgVote', { from: 3, to: 1, term: 1 }));
    assert.deepEqual(
      sent(node, storage).map((m) => m.reject),
      [false, false],
    );
  });

  test('testBugs.sendBeforePersist hands out a vote grant before the hard state recording it, so a restart forgets the vote', () => {
    const good = rawNode(1);
    good.node.step(message('MsgVote', { from: 2, to: 1, term: 1 }));
    const rdGood = good.node.ready();
    assert.deepEqual(rdGood.hardState, { term: 1, vote: 2, commit: 0 });

    const { node, storage } = rawNode(1, { testBugs: { sendBeforePersist: true } });
    node.step(message('MsgVote', { from: 2, to: 1, term: 1 }));
    const rd = drain(node, storage);
    assert.equal(rd.messages[0]!.reject, false);
    assert.equal(rd.hardState, undefined);
    assert.equal(node.hasReady(), false);
    // Crash now: the vote was never persisted.
    const again = new RaftNode({
      id: 1,
      voters: VOTERS,
      electionTick: 10,
      heartbeatTick: 1,
      storage,
      random: seeded(1),
    });
    again.step(message('MsgVote', { from: 3, to: 1, term: 1 }));
    assert.equal(again.ready().messages[0]!.reject, false); // a second vote in term 1
  });
});
