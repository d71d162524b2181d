import { describe, expect, it } from 'vitest';
import { NO_GC, describeGc, parseGcTotals, watchOwnGc } from '../../bench/serve/gc-stats.js';

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

describe('the load generator’s own collections', () => {
  it('counts the collections that run while watched, and none after', async () => {
    const stop = watchOwnGc();
    // Far more short-lived garbage than a young generation holds: it must be collected.
    let keep = 0;
    for (let i = 0; i < 400_000; i++) keep += new Array<number>(64).fill(i).length;
    const totals = await stop();
    expect(keep).toBe(400_000 * 64);
    const minor = totals.kinds.get('minor');
    expect(minor?.count).toBeGreaterThan(0);
    expect(minor?.seconds).toBeGreaterThan(0);
    for (let i = 0; i < 400_000; i++) keep += new Array<number>(64).fill(i).length;
    expect(totals.kinds.get('minor')?.count).toBe(minor?.count);
    expect(describeGc(NO_GC, totals, 'the load generator')).toMatch(
      /^garbage collection in the load generator: \d+ full .*, [1-9]\d* young-generation/,
    );
  });
});
