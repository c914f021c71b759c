// CPU time of a process: this one from process.cpuUsage(), another local one from
// /proc/<pid>/stat (utime + stime, fields 14 and 15, in clock ticks of 1/100 s on Linux).
// https://man7.org/linux/man-pages/man5/proc_pid_stat.5.html
import { readFileSync } from 'node:fs';

const TICK_US = 10_000;

export function ownCpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** User + system CPU µs of a local process, or undefined when /proc cannot tell. */
export function procCpuUs(pid: number): number | undefined {
  return statCpuUs(`/proc/${pid}/stat`);
}

/** The same for a process's main thread alone (its JavaScript event loop, without the libuv
 *  pool, GC helpers or worker threads). */
export function mainThreadCpuUs(pid: number): number | undefined {
  return statCpuUs(`/proc/${pid}/task/${pid}/stat`);
}

function statCpuUs(file: string): number | undefined {
  try {
    const stat = readFileSync(file, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * TICK_US;
  } catch {
    return undefined;
  }
}
