/** Resident memory and CPU time of another process tree, from /proc (Linux only; null elsewhere). */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessMemory {
  /** Peak resident set (VmHWM), bytes. */
  peak: number;
  /** Resident set now (VmRSS), bytes. */
  now: number;
}

function field(status: string, name: string): number | null {
  const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return m ? Number(m[1]) * 1024 : null;
}

export function processMemory(pid: number | undefined): ProcessMemory | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const peak = field(status, 'VmHWM');
    const now = field(status, 'VmRSS');
    return peak !== null && now !== null ? { peak, now } : null;
  } catch {
    return null;
  }
}

/** The process and every process below it (the workers of a multi-process server). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const visit = (p: number): void => {
    out.push(p);
    for (const c of children.get(p) ?? []) visit(c);
  };
  visit(pid);
  return out;
}

/** Resident memory summed over a process and its descendants (null where /proc is missing). */
export function processTreeMemory(pid: number | undefined): (ProcessMemory & { processes: number }) | null {
  if (pid === undefined) return null;
  let peak = 0;
  let now = 0;
  let processes = 0;
  try {
    for (const p of processTree(pid)) {
      const m = processMemory(p);
      if (!m) continue;
      peak += m.peak;
      now += m.now;
      processes++;
    }
  } catch {
    return null;
  }
  return processes > 0 ? { peak, now, processes } : null;
}

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/**
 * CPU seconds used so far by a process and its descendants, every thread included (null where
 * /proc is missing). The difference over a run, per request, is what serving one costs.
 */
export function processTreeCpuSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  let ticks = 0;
  let processes = 0;
  try {
    for (const p of processTree(pid)) {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // utime and stime: fields 14 and 15 of the line, 12 and 13 after the name.
        ticks += Number(fields[11]) + Number(fields[12]);
        processes++;
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return null;
  }
  return processes > 0 ? ticks / TICKS : null;
}
