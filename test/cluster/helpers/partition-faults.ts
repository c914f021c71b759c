// The four partitions the cluster tests inject through the fault proxies, each cutting the
// nodes that lead (or follow) when it is injected: an isolated leader, a cut-off follower,
// and the two one-way cuts of the leader. healAll() ends each.
import type { S3Cluster } from './s3-cluster.ts';

export type Fault = [name: string, inject: () => Promise<void>];

/** `waitMs` bounds the wait for a stable leader before each cut. */
export function partitionFaults(c: S3Cluster, waitMs = 20_000): Fault[] {
  return [
    ['isolated leader', async () => c.cut(await c.waitStable(waitMs), { kind: 'drop' })],
    [
      'cut-off follower',
      async () => {
        const l = await c.waitStable(waitMs);
        c.cut(c.nodes.find((n) => n !== l)!, { kind: 'drop' });
      },
    ],
    [
      'one-way: the leader cannot reach the others',
      async () => c.cut(await c.waitStable(waitMs), { kind: 'drop' }, 'from'),
    ],
    ['one-way: nobody reaches the leader', async () => c.cut(await c.waitStable(waitMs), { kind: 'drop' }, 'to')],
  ];
}
