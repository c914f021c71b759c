// Per-bucket totals for the web console's bucket list: object count and bytes.
import type { MetadataStore } from './sqlite.ts';

export function bucketStats(store: MetadataStore, bucket: string): { objects: number; bytes: number } {
  const r = store.q('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS b FROM objects WHERE bucket = ?').get(bucket) as { n: number; b: number };
  return { objects: r.n, bytes: r.b };
}
