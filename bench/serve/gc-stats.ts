/**
 * The server's garbage collections over a stretch of load, read from its /metrics (prom-client's
 * `nodejs_gc_duration_seconds` histogram, summed over the workers): how many full (mark-compact)
 * and young-generation collections ran and how long their pauses took in all.
 */
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

/** What ran between two readings, as one line for the report. */
export function describeGc(before: GcTotals | null, after: GcTotals | null): string {
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
    `garbage collection in the server: ${major.count} full (${major.ms.toFixed(0)} ms of final pauses, ` +
    `${incremental.count} incremental marking steps of ${incremental.ms.toFixed(0)} ms), ` +
    `${minor.count} young-generation (${minor.ms.toFixed(0)} ms)`
  );
}
