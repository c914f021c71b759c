// Which keys a run wrote (as prefix/0..n-1 ranges and single keys), and removing them again:
// DeleteObjects in batches of 1000 where the endpoint has it, single DELETEs where not.
import type { BenchClient } from './http.ts';
import { closedLoop } from './loop.ts';
import { deleteBucket, deleteObject, deleteObjects, notSupported } from './s3.ts';

export const keyOf = (prefix: string, n: number): string => `${prefix}/${n}`;

export class KeyLedger {
  readonly #ranges = new Map<string, number>();
  readonly #singles = new Set<string>();

  range(prefix: string, count: number): void {
    this.#ranges.set(prefix, Math.max(count, this.#ranges.get(prefix) ?? 0));
  }

  single(key: string): void {
    this.#singles.add(key);
  }

  keys(): string[] {
    const out = [...this.#singles];
    for (const [prefix, count] of this.#ranges) for (let n = 0; n < count; n++) out.push(keyOf(prefix, n));
    return out;
  }
}

/** Removes every key in the ledger (and the bucket when asked); returns problems as text. */
export async function removeAll(
  client: BenchClient,
  bucket: string,
  ledger: KeyLedger,
  alsoBucket: boolean,
): Promise<string[]> {
  const keys = ledger.keys();
  const problems: string[] = [];
  let batched = keys.length > 0;
  const batches: string[][] = [];
  for (let i = 0; i < keys.length; i += 1000) batches.push(keys.slice(i, i + 1000));
  if (batched) {
    try {
      await deleteObjects(client, bucket, batches[0]!);
      const r = await closedLoop({
        concurrency: 4,
        count: batches.length - 1,
        op: async (n) => {
          await deleteObjects(client, bucket, batches[n + 1]!);
          return 0;
        },
      });
      if (r.errors) problems.push(`${r.errors} DeleteObjects batches failed: ${Object.keys(r.errorCounts)[0]}`);
    } catch (err) {
      if (!notSupported(err)) problems.push(`DeleteObjects failed (${(err as Error).message}); deleting one by one`);
      batched = false;
    }
  }
  if (!batched && keys.length) {
    const r = await closedLoop({
      concurrency: 64,
      count: keys.length,
      op: async (n) => {
        await deleteObject(client, bucket, keys[n]!);
        return 0;
      },
    });
    if (r.errors) problems.push(`${r.errors} of ${keys.length} DELETEs failed: ${Object.keys(r.errorCounts)[0]}`);
  }
  if (alsoBucket) {
    try {
      await deleteBucket(client, bucket);
    } catch (err) {
      problems.push(`the bucket ${bucket} was left in place: ${(err as Error).message}`);
    }
  }
  return problems;
}
