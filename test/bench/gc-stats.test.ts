import { describe, expect, it } from 'vitest';
import { describeGc, parseGcTotals } from '../../bench/serve/gc-stats.js';

const exposition = (majorCount: number, majorSum: number, minorCount: number): string =>
  [
    '# HELP nodejs_gc_duration_seconds Garbage collection duration by kind',
    '# TYPE nodejs_gc_duration_seconds histogram',
    'nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 1',
    `nodejs_gc_duration_seconds_sum{kind="minor"} ${minorCount * 0.002}`,
    `nodejs_gc_duration_seconds_count{kind="minor"} ${minorCount}`,
    `nodejs_gc_duration_seconds_sum{kind="major"} ${majorSum}`,
    `nodejs_gc_duration_seconds_count{kind="major"} ${majorCount}`,
    'process_cpu_seconds_total 12.5',
  ].join('\n');

describe('server GC totals from /metrics', () => {
  it('reads count and pause seconds per kind, ignoring buckets and other metrics', () => {
    const t = parseGcTotals(exposition(3, 0.045, 10));
    expect(t.kinds.get('major')).toEqual({ count: 3, seconds: 0.045 });
    expect(t.kinds.get('minor')?.count).toBe(10);
    expect(t.kinds.get('minor')?.seconds).toBeCloseTo(0.02, 12);
    expect(t.kinds.size).toBe(2);
  });

  it('reports what ran between two readings', () => {
    const line = describeGc(parseGcTotals(exposition(1, 0.015, 10)), parseGcTotals(exposition(4, 0.06, 30)));
    expect(line).toContain('3 full (45 ms of final pauses');
    expect(line).toContain('20 young-generation (40 ms)');
  });

  it('says so when a reading is missing', () => {
    expect(describeGc(null, parseGcTotals(''))).toMatch(/not read/);
  });
});
