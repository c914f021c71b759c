// Log lines are written when a response closes, which may be just after the client has
// read it: tests poll for them rather than reading once.
import { setTimeout as sleep } from 'node:timers/promises';

export async function waitFor<T>(probe: () => T | undefined | false, what: string, ms = 2000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function jsonLines(lines: readonly string[]): Array<Record<string, unknown>> {
  return lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** waitFor for a probe that has to await (an S3 request, a file read); polls every 50 ms. */
export async function waitForAsync(probe: () => Promise<boolean>, what: string, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
