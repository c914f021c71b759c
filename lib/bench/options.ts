// What a benchmark run is configured with, its defaults, the --quick preset, and sizes.
export interface EndpointSpec {
  name: string;
  url: string;
  /** Server process to sample VmRSS from (/proc/<pid>/status), when local. */
  serverPid?: number;
  /** Processes whose CPU time together is the server's (a cluster's nodes); default serverPid. */
  cpuPids?: number[];
  /** Used when the server does not report its durability mode itself. */
  durabilityLabel?: string;
}

export interface BenchOptions {
  endpoints: EndpointSpec[];
  /** Name of the endpoint ratios are relative to. */
  baseline: string;
  accessKey: string;
  secretKey: string;
  region: string;
  pathStyle: boolean;
  /** Existing bucket to use; by default a fresh bench-<random> bucket is created and removed. */
  bucket?: string;
  durationSec: number;
  /** Workload selectors (names, name prefixes or groups); empty means all. */
  workloads: string[];
  smallSizes: number[];
  concurrencies: number[];
  largeSize: number;
  partSize: number;
  partParallelism: number;
  listKeys: number;
  listPageSize: number;
  seedConcurrency: number;
  mixedSize: number;
  mixedConcurrency: number;
  /** Objects per size written before GET/HEAD runs read them round-robin. */
  poolSize: number;
  /** interleaved: endpoints take turns per workload; sequential: one endpoint after another. */
  order: 'interleaved' | 'sequential';
  /** Leave the objects (and the bucket) in place afterwards. */
  keep: boolean;
  quick: boolean;
  /** raw: small-object workloads replay pre-signed requests over raw sockets; node: node:http for all. */
  client: 'raw' | 'node';
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULTS: Omit<BenchOptions, 'endpoints' | 'baseline'> = {
  accessKey: 'bleepstore',
  secretKey: 'bleepstore-secret',
  region: 'us-east-1',
  pathStyle: true,
  durationSec: 10,
  workloads: [],
  smallSizes: [KiB, 64 * KiB],
  concurrencies: [1, 16, 64],
  largeSize: 256 * MiB,
  partSize: 16 * MiB,
  partParallelism: 4,
  listKeys: 20_000,
  listPageSize: 1000,
  seedConcurrency: 64,
  mixedSize: KiB,
  mixedConcurrency: 16,
  poolSize: 256,
  order: 'interleaved',
  keep: false,
  quick: false,
  client: 'raw',
};

/** A smoke run of every workload family in well under a minute. */
export const QUICK: Partial<BenchOptions> = {
  durationSec: 1,
  concurrencies: [16],
  largeSize: 16 * MiB,
  partSize: 5 * MiB,
  listKeys: 2000,
  poolSize: 64,
  quick: true,
};

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: KiB,
  kb: KiB,
  kib: KiB,
  m: MiB,
  mb: MiB,
  mib: MiB,
  g: 1024 * MiB,
  gb: 1024 * MiB,
  gib: 1024 * MiB,
};

/** "64KiB", "256MiB", "5m", "1000" → bytes (binary units). */
export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(s);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error(`"${s}" is not a size (examples: 1024, 64KiB, 256MiB)`);
  return Math.round(Number(m[1]) * unit);
}

/** 1024 → "1KiB", 268435456 → "256MiB", 1500 → "1500B". */
export function sizeLabel(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB}MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB}KiB`;
  return `${n}B`;
}
