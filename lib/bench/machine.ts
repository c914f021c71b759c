// What a result was measured on: this machine, and what the server says about itself.
import os from 'node:os';
import type { BenchClient } from './http.ts';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  hostname: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    hostname: os.hostname(),
  };
}

export interface ServerProbe {
  reachable: boolean;
  error?: string;
  server: string;
  version: string;
  durability?: string;
}

/** GET /health (unsigned): BleepStore answers JSON that may carry `durability` and `version`. */
export async function probeServer(client: BenchClient): Promise<ServerProbe> {
  let res;
  try {
    res = await client.getPlain('/health');
  } catch (err) {
    return { reachable: false, error: (err as Error).message, server: '', version: '' };
  }
  const probe: ServerProbe = { reachable: true, server: String(res.headers.server ?? ''), version: '' };
  if (!String(res.headers['content-type'] ?? '').includes('json') || !res.body) return probe;
  try {
    const j = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
    const cfg = (j.config ?? {}) as Record<string, unknown>;
    const d = j.durability ?? cfg.durability;
    const mode =
      typeof d === 'string' ? d : typeof d === 'object' && d ? (d as Record<string, unknown>).mode : undefined;
    if (typeof mode === 'string') probe.durability = mode;
    if (typeof j.version === 'string') probe.version = j.version;
  } catch {
    /* not JSON after all: nothing to learn */
  }
  return probe;
}

export function describeMachine(m: MachineInfo): string {
  return `${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}, Node ${m.node}`;
}
