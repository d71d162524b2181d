/** Resident memory of another process, from /proc (Linux only; null elsewhere). */
import { readFileSync } from 'node:fs';

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
