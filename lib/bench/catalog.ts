// The workloads a run can contain, named from the configuration (put-1KiB-c16, get-256MiB,
// multipart-256MiB-p4, list-v2-20000, mixed-70-30-1KiB-c16), and how --workloads selects them.
import { type BenchOptions, sizeLabel } from './options.ts';

export type WorkloadKind = 'put' | 'get' | 'head' | 'put-large' | 'get-large' | 'multipart' | 'list' | 'mixed';
export type WorkloadGroup = 'small' | 'large' | 'multipart' | 'list' | 'mixed';

export interface Workload {
  name: string;
  group: WorkloadGroup;
  kind: WorkloadKind;
  sizeBytes: number;
  concurrency: number;
  /** PUTs carry the hex SHA-256 of the body instead of UNSIGNED-PAYLOAD. */
  signed: boolean;
  description: string;
}

export const GROUPS: readonly WorkloadGroup[] = ['small', 'large', 'multipart', 'list', 'mixed'];

export function catalog(o: BenchOptions): Workload[] {
  const out: Workload[] = [];
  for (const size of o.smallSizes) {
    for (const kind of ['put', 'get', 'head'] as const) {
      for (const c of o.concurrencies) {
        out.push({
          name: `${kind}-${sizeLabel(size)}-c${c}`,
          group: 'small',
          kind,
          sizeBytes: size,
          concurrency: c,
          signed: kind === 'put',
          description: `${kind.toUpperCase()} of ${sizeLabel(size)} objects, ${c} in flight${kind === 'put' ? ' (signed payload, new keys)' : ' (round-robin over a seeded pool)'}`,
        });
      }
    }
  }
  const big = sizeLabel(o.largeSize);
  out.push(
    {
      name: `put-${big}`,
      group: 'large',
      kind: 'put-large',
      sizeBytes: o.largeSize,
      concurrency: 1,
      signed: false,
      description: `one ${big} PUT at a time, UNSIGNED-PAYLOAD`,
    },
    {
      name: `put-${big}-signed`,
      group: 'large',
      kind: 'put-large',
      sizeBytes: o.largeSize,
      concurrency: 1,
      signed: true,
      description: `one ${big} PUT at a time, payload SHA-256 signed`,
    },
    {
      name: `get-${big}`,
      group: 'large',
      kind: 'get-large',
      sizeBytes: o.largeSize,
      concurrency: 1,
      signed: false,
      description: `one ${big} GET at a time, byte count verified`,
    },
    {
      name: `multipart-${big}-p${o.partParallelism}`,
      group: 'multipart',
      kind: 'multipart',
      sizeBytes: o.largeSize,
      concurrency: 1,
      signed: false,
      description: `Create + ${Math.ceil(o.largeSize / o.partSize)} x UploadPart (${sizeLabel(o.partSize)}, ${o.partParallelism} in flight, UNSIGNED-PAYLOAD) + Complete`,
    },
    {
      name: `list-v2-${o.listKeys}`,
      group: 'list',
      kind: 'list',
      sizeBytes: 0,
      concurrency: 1,
      signed: false,
      description: `ListObjectsV2 pages of ${o.listPageSize} over ${o.listKeys} keys; one op = one page`,
    },
    {
      name: `mixed-70-30-${sizeLabel(o.mixedSize)}-c${o.mixedConcurrency}`,
      group: 'mixed',
      kind: 'mixed',
      sizeBytes: o.mixedSize,
      concurrency: o.mixedConcurrency,
      signed: true,
      description: `70% GET / 30% PUT of ${sizeLabel(o.mixedSize)} objects, ${o.mixedConcurrency} in flight`,
    },
  );
  return out;
}

/** Each selector is a workload name, a name prefix ending at a "-" (put, get-64KiB) or a group. */
export function selectWorkloads(all: readonly Workload[], selectors: readonly string[]): Workload[] {
  if (!selectors.length) return [...all];
  const picked = new Set<Workload>();
  for (const s of selectors) {
    const hits = all.filter((w) => w.name === s || w.name.startsWith(s + '-') || w.group === s);
    if (!hits.length) {
      throw new Error(
        `no workload matches "${s}"; names are: ${all.map((w) => w.name).join(', ')} (or a group: ${GROUPS.join(', ')})`,
      );
    }
    for (const w of hits) picked.add(w);
  }
  return all.filter((w) => picked.has(w));
}
