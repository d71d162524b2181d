/**
 * The server's garbage collections over a stretch of load, read from its /metrics (prom-client's
 * `nodejs_gc_duration_seconds` histogram, summed over the workers): how many full (mark-compact)
 * and young-generation collections ran and how long their pauses took in all; and the same for
 * this process's own collections (watchOwnGc).
 */
import { PerformanceObserver, constants, type PerformanceEntry } from 'node:perf_hooks';

export interface GcTotals {
  /** Collections and pause seconds per kind (major, minor, incremental, weakcb). */
  readonly kinds: ReadonlyMap<string, { count: number; seconds: number }>;
}

const LINE = /^(?:\w+_)?nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\}\s+([0-9.eE+-]+)$/;

/** Parses the GC histogram out of a Prometheus text exposition. */
export function parseGcTotals(text: string): GcTotals {
  const kinds = new Map<string, { count: number; seconds: number }>();
  for (const line of text.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const entry = kinds.get(m[2]) ?? { count: 0, seconds: 0 };
    if (m[1] === 'sum') entry.seconds += Number(m[3]);
    else entry.count += Number(m[3]);
    kinds.set(m[2], entry);
  }
  return { kinds };
}

export async function readGcTotals(url: string): Promise<GcTotals | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    return res.ok ? parseGcTotals(await res.text()) : null;
  } catch {
    return null;
  }
}

const KIND_NAMES: Readonly<Record<number, string>> = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** No collections: the reading before a watch starts. */
export const NO_GC: GcTotals = { kinds: new Map() };

/**
 * This process's own collections from now until the returned function is called: the load
 * generator's, whose pauses delay its sends and its reading of answers, and so show up as latency.
 */
export function watchOwnGc(): () => Promise<GcTotals> {
  const kinds = new Map<string, { count: number; seconds: number }>();
  const add = (entries: PerformanceEntry[]) => {
    for (const e of entries) {
      const detail = (e as PerformanceEntry & { detail?: { kind?: number } }).detail;
      const kind = KIND_NAMES[detail?.kind ?? -1] ?? 'other';
      const entry = kinds.get(kind) ?? { count: 0, seconds: 0 };
      entry.count++;
      entry.seconds += e.duration / 1000;
      kinds.set(kind, entry);
    }
  };
  const observer = new PerformanceObserver((list) => add(list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  return async () => {
    // Entries are delivered after the collection; let the last ones arrive.
    await new Promise((resolve) => setImmediate(resolve));
    add(observer.takeRecords());
    observer.disconnect();
    return { kinds };
  };
}

/** What ran between two readings, as one line for the report. */
export function describeGc(before: GcTotals | null, after: GcTotals | null, whose = 'the server'): string {
  if (!before || !after) return 'garbage collection: not read (no /metrics)';
  const delta = (kind: string) => {
    const a = after.kinds.get(kind) ?? { count: 0, seconds: 0 };
    const b = before.kinds.get(kind) ?? { count: 0, seconds: 0 };
    return { count: a.count - b.count, ms: (a.seconds - b.seconds) * 1000 };
  };
  const major = delta('major');
  const minor = delta('minor');
  const incremental = delta('incremental');
  return (
    `garbage collection in ${whose}: ${major.count} full (${major.ms.toFixed(0)} ms of final pauses, ` +
    `${incremental.count} incremental marking steps of ${incremental.ms.toFixed(0)} ms), ` +
    `${minor.count} young-generation (${minor.ms.toFixed(0)} ms)`
  );
}
