// MD5 and SHA-256 of big bodies on worker threads. Hashing a body is the largest part of a
// big PUT's CPU (MD5 ~730 MiB/s, SHA-256 ~1.6 GiB/s on one core: a 1 MiB PUT spends ~1.9 ms
// in them), and on the event loop it is paid serially for every upload in flight while other
// cores idle. Here the payload is copied into 256 KiB stage buffers that are transferred to
// a hashing thread and handed back once hashed (reused, so steady uploads allocate nothing).
// Memory is bounded: an upload pauses while more than UPLOAD_IN_FLIGHT of its bytes, or more
// than TOTAL_IN_FLIGHT bytes of all uploads, wait to be hashed; each upload fills at most one
// stage buffer at a time.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export type OffloadedAlgorithm = 'md5' | 'sha256';

const STAGE_BYTES = 256 * 1024;
const UPLOAD_IN_FLIGHT = 4 * STAGE_BYTES;
const TOTAL_IN_FLIGHT = 64 * STAGE_BYTES;
/** Stage buffers kept for reuse across uploads (4 MiB). */
const SPARE_LIMIT = 16;

const HASHER = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'start') jobs.set(m.job, m.algos.map((a) => createHash(a)));
  else if (m.op === 'data') {
    const hashes = jobs.get(m.job);
    if (hashes) { const b = new Uint8Array(m.buf, 0, m.len); for (const h of hashes) h.update(b); }
    parentPort.postMessage({ job: m.job, op: 'hashed', buf: m.buf }, [m.buf]);
  } else if (m.op === 'end') {
    const hashes = jobs.get(m.job);
    jobs.delete(m.job);
    parentPort.postMessage({ job: m.job, op: 'done', digests: hashes ? hashes.map((h) => h.digest()) : null });
  } else if (m.op === 'drop') jobs.delete(m.job);
});
`;

interface Job {
  hashed: (bytes: number) => void;
  done: (digests: Uint8Array[] | null) => void;
  fail: (err: Error) => void;
}

interface FromHasher {
  job: number;
  op: 'hashed' | 'done';
  buf?: ArrayBuffer;
  digests?: Uint8Array[] | null;
}

class HashThread {
  readonly #jobs = new Map<number, Job>();
  #worker: Worker | undefined;

  post(msg: Record<string, unknown>, transfer?: ArrayBuffer[]): void {
    this.#spawn().postMessage(msg, transfer);
  }

  /** The thread keeps the process alive only while it has jobs. */
  add(id: number, job: Job): void {
    this.#jobs.set(id, job);
    this.#spawn().ref();
  }

  remove(id: number): void {
    this.#jobs.delete(id);
    if (!this.#jobs.size) this.#worker?.unref();
  }

  #spawn(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(HASHER, { eval: true });
    w.on('message', (m: FromHasher) => {
      const job = this.#jobs.get(m.job);
      if (m.op === 'hashed') {
        if (m.buf && spare.length < SPARE_LIMIT) spare.push(m.buf);
        job?.hashed(STAGE_BYTES);
      } else {
        this.remove(m.job);
        job?.done(m.digests ?? null);
      }
    });
    const failAll = (err: Error) => {
      if (this.#worker !== w) return;
      this.#worker = undefined;
      const jobs = [...this.#jobs.values()];
      this.#jobs.clear();
      for (const j of jobs) j.fail(err);
    };
    w.on('error', failAll);
    w.on('exit', (code) => failAll(new Error(`the hashing thread exited (code ${code})`)));
    this.#worker = w;
    return w;
  }
}

const spare: ArrayBuffer[] = [];
let threads: HashThread[] | undefined;
let nextJob = 0;
let totalInFlight = 0;
/** Paused uploads, woken whenever bytes are hashed. */
const paused = new Set<OffloadedHashes>();

function threadFor(job: number): HashThread {
  threads ??= Array.from({ length: Math.max(1, Math.min(4, availableParallelism() - 1)) }, () => new HashThread());
  return threads[job % threads.length]!;
}

/** Bytes of all uploads waiting to be hashed, and the bounds (for tests and metrics). */
export function hashBacklog(): { bytes: number; uploadLimit: number; totalLimit: number; stageBytes: number } {
  return { bytes: totalInFlight, uploadLimit: UPLOAD_IN_FLIGHT, totalLimit: TOTAL_IN_FLIGHT, stageBytes: STAGE_BYTES };
}

/** The digests of one body, computed on a hashing thread in the order `algorithms` names. */
export class OffloadedHashes {
  readonly #id = ++nextJob;
  readonly #thread = threadFor(this.#id);
  #stage: Uint8Array | undefined;
  #filled = 0;
  #inFlight = 0;
  #resume: (() => void) | undefined;
  #failed: Error | undefined;
  #result: Promise<Uint8Array[]> | undefined;
  readonly #job: Job;

  constructor(algorithms: readonly OffloadedAlgorithm[]) {
    this.#job = {
      hashed: (bytes) => {
        this.#inFlight -= bytes;
        totalInFlight -= bytes;
        for (const p of paused) p.#wake();
      },
      done: () => {},
      fail: (err) => {
        this.#failed = err;
        totalInFlight -= this.#inFlight;
        this.#inFlight = 0;
        this.#wake();
      },
    };
    this.#thread.add(this.#id, this.#job);
    this.#thread.post({ op: 'start', job: this.#id, algos: algorithms });
  }

  update(data: Uint8Array): void {
    if (this.#failed) throw this.#failed;
    let at = 0;
    while (at < data.length) {
      this.#stage ??= new Uint8Array(spare.pop() ?? new ArrayBuffer(STAGE_BYTES));
      const n = Math.min(data.length - at, STAGE_BYTES - this.#filled);
      this.#stage.set(data.subarray(at, at + n), this.#filled);
      this.#filled += n;
      at += n;
      if (this.#filled === STAGE_BYTES) this.#flush();
    }
  }

  /** A promise while too many bytes wait to be hashed (pause reading until it resolves). */
  backpressure(): Promise<void> | undefined {
    if (!this.#mustWait()) return undefined;
    paused.add(this);
    return new Promise((resolve) => {
      this.#resume = resolve;
    });
  }

  /** The digests, once every byte given to update() is hashed. */
  digests(): Promise<Uint8Array[]> {
    this.#result ??= new Promise<Uint8Array[]>((resolve, reject) => {
      if (this.#failed) return reject(this.#failed);
      if (this.#filled) this.#flush();
      const failed = this.#job.fail;
      this.#job.done = (d) => (d ? resolve(d) : reject(new Error('the hashing thread lost this body')));
      this.#job.fail = (err) => {
        failed(err);
        reject(err);
      };
      this.#thread.post({ op: 'end', job: this.#id });
    });
    return this.#result;
  }

  /** The body failed: forget it on the hashing thread. */
  drop(): void {
    if (this.#result) return;
    this.#thread.remove(this.#id);
    this.#thread.post({ op: 'drop', job: this.#id });
    // Its stage buffers in flight still come back; only the counts are released now.
    totalInFlight -= this.#inFlight;
    this.#inFlight = 0;
    paused.delete(this);
  }

  #mustWait(): boolean {
    if (this.#failed || this.#inFlight === 0) return false;
    return this.#inFlight > UPLOAD_IN_FLIGHT || totalInFlight > TOTAL_IN_FLIGHT;
  }

  #flush(): void {
    const buf = this.#stage!.buffer as ArrayBuffer;
    this.#inFlight += STAGE_BYTES;
    totalInFlight += STAGE_BYTES;
    this.#thread.post({ op: 'data', job: this.#id, buf, len: this.#filled }, [buf]);
    this.#stage = undefined;
    this.#filled = 0;
  }

  #wake(): void {
    const r = this.#resume;
    if (r && !this.#mustWait()) {
      this.#resume = undefined;
      paused.delete(this);
      r();
    }
  }
}
