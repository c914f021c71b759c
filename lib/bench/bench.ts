// A benchmark run: every selected workload against every endpoint, then ratios against the
// baseline. By default the endpoints take turns workload by workload, so both sides of a ratio
// are measured minutes apart at most, under the same background load; `order: 'sequential'`
// runs the whole list against one endpoint before the next.
import { catalog, selectWorkloads, type Workload } from './catalog.ts';
import { machineInfo } from './machine.ts';
import type { BenchOptions } from './options.ts';
import { computeRatios, type BenchReport } from './report.ts';
import { EndpointSession, type ProgressSink } from './session.ts';
import { version } from '../version.ts';

export type { ProgressSink } from './session.ts';

/** Options worth recording beside the results (never the secret key). */
function settingsOf(o: BenchOptions, selected: readonly Workload[]): Record<string, unknown> {
  const { secretKey: _secret, endpoints: _e, ...rest } = o;
  return { ...rest, workloads: selected.map((w) => w.name) };
}

export async function runBench(o: BenchOptions, progress: ProgressSink = () => {}): Promise<BenchReport> {
  const selected = selectWorkloads(catalog(o), o.workloads);
  const needsList = selected.some((w) => w.kind === 'list');
  const startedAt = new Date().toISOString();
  const sessions = o.endpoints.map((ep) => new EndpointSession(ep, o, selected, progress));
  try {
    if (o.order === 'sequential') {
      for (const s of sessions) {
        await s.open(needsList);
        for (const w of selected) await s.run(w);
        await s.close();
      }
    } else {
      for (const s of sessions) await s.open(needsList);
      for (const w of selected) for (const s of sessions) await s.run(w);
      for (const s of sessions) await s.close();
    }
  } catch (err) {
    await Promise.allSettled(sessions.map((s) => s.close()));
    throw err;
  }
  const endpoints = sessions.map((s) => s.report);
  return {
    tool: 'bleepstore bench',
    version,
    startedAt,
    finishedAt: new Date().toISOString(),
    machine: machineInfo(),
    settings: settingsOf(o, selected),
    baseline: o.baseline,
    endpoints,
    ratios: computeRatios(endpoints, o.baseline),
  };
}
