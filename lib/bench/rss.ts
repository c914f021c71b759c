// Samples a local server's resident set size (VmRSS in /proc/<pid>/status) every 200 ms and
// keeps the maximum overall and since the last mark.
import { readFile } from 'node:fs/promises';

export async function readRssBytes(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export class RssSampler {
  readonly pid: number;
  max = 0;
  sinceMark = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, intervalMs = 200) {
    this.pid = pid;
    this.#timer = setInterval(() => void this.sample(), intervalMs);
    this.#timer.unref();
  }

  async sample(): Promise<void> {
    const rss = await readRssBytes(this.pid);
    if (rss === undefined) return;
    if (rss > this.max) this.max = rss;
    if (rss > this.sinceMark) this.sinceMark = rss;
  }

  /** Starts a new "since mark" window; returns the maximum of the window that ended. */
  async mark(): Promise<number> {
    await this.sample();
    const m = this.sinceMark;
    this.sinceMark = 0;
    return m;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
