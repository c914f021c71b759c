// Latency histogram in microseconds, bucketed like HdrHistogram: values below 256 are exact,
// above that each power of two is split into 128 linear sub-buckets, so a reported value is
// within 1/256 (~0.4%) of a recorded one. Values are clamped to 2^32-1 µs (about 71 minutes).
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS; // 128
const LINEAR = SUB * 2; // 256 exact buckets
const MAX = 0xffffffff;
const BUCKETS = LINEAR + (32 - SUB_BITS - 1) * SUB;

function indexOf(us: number): number {
  if (us < LINEAR) return us;
  const e = 31 - Math.clz32(us); // floor(log2), >= 8
  const shift = e - SUB_BITS;
  return LINEAR + (e - SUB_BITS - 1) * SUB + ((us >>> shift) - SUB);
}

/** The midpoint of the values bucket `i` holds. */
function valueAt(i: number): number {
  if (i < LINEAR) return i;
  const j = i - LINEAR;
  const shift = Math.floor(j / SUB) + 1;
  const lower = (SUB + (j % SUB)) * 2 ** shift;
  return lower + 2 ** shift / 2 - 0.5;
}

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export class Histogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** Records one value in milliseconds (as performance.now() differences give them). */
  recordMs(ms: number): void {
    let us = Math.round(ms * 1000);
    if (us < 0) us = 0;
    else if (us > MAX) us = MAX;
    this.counts[indexOf(us)]!++;
    this.count++;
    this.#sum += us;
    if (us < this.#min) this.#min = us;
    if (us > this.#max) this.#max = us;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  /** The value at quantile q (0..1), in milliseconds; exact at the extremes. */
  quantileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, valueAt(i))) / 1000;
    }
    return this.#max / 1000;
  }

  summary(): LatencySummary {
    const n = this.count;
    return {
      count: n,
      min: n ? this.#min / 1000 : 0,
      mean: n ? this.#sum / n / 1000 : 0,
      p50: this.quantileMs(0.5),
      p90: this.quantileMs(0.9),
      p99: this.quantileMs(0.99),
      p999: this.quantileMs(0.999),
      max: n ? this.#max / 1000 : 0,
    };
  }
}
