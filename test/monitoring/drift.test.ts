import { describe, expect, it } from 'vitest';
import { interactionsFromArrays } from '../../src/data/interactions.js';
import { Rng } from '../../src/ingest/prng.js';
import { AlertBook, type CheckOutcome } from '../../src/monitoring/alerts.js';
import { log2Bin } from '../../src/monitoring/distribution.js';
import { DriftMonitor, type DriftCheck, type MonitoredEvent } from '../../src/monitoring/drift.js';
import { referenceFromInteractions } from '../../src/monitoring/drift-reference.js';

const HOUR = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

const ev = (type: string, itemId = 'i0', userId = 'u0', timestamp = T0): MonitoredEvent => ({
  userId,
  itemId,
  type,
  timestamp,
});
const repeat = (n: number, f: (k: number) => MonitoredEvent): MonitoredEvent[] =>
  Array.from({ length: n }, (_, k) => f(k));
const byName = (checks: DriftCheck[], name: string): DriftCheck => {
  const c = checks.find((x) => x.name === name);
  if (!c) throw new Error(`no check ${name}`);
  return c;
};

describe('CTR trend', () => {
  const monitor = () => {
    const m = new DriftMonitor({ windowMs: 4 * HOUR, buckets: 4, minImpressions: 100, ctrBuckets: 1 });
    // reference CTR 100 / 1000 = 10%
    m.setReferenceFromEvents([...repeat(1000, () => ev('impression')), ...repeat(100, () => ev('click'))]);
    return m;
  };

  it('stays quiet below the minimum sample, alerts on a drop, resolves on recovery', () => {
    const m = monitor();
    const t = T0 + 100 * HOUR;
    m.observeEvents(
      repeat(50, () => ev('impression')),
      t,
    );
    let c = byName(m.check(t).checks, 'ctr_trend');
    expect(c.sufficient).toBe(false);
    expect(c.status).toBe('ok');
    expect(c.sample).toBe(50);

    // 200 impressions, 10 clicks: 5% vs 10%, a 50% drop
    m.observeEvents([...repeat(150, () => ev('impression')), ...repeat(10, () => ev('click'))], t + 1000);
    c = byName(m.check(t + 2000).checks, 'ctr_trend');
    expect(c.sufficient).toBe(true);
    expect(c.value).toBeCloseTo(0.5, 12);
    expect(c.status).toBe('alert');
    expect(m.alerts().active.map((a) => a.name)).toEqual(['ctr_trend']);

    // the next hour is back at 10%; only the latest bucket counts (ctrBuckets 1)
    m.observeEvents([...repeat(200, () => ev('impression')), ...repeat(20, () => ev('click'))], t + HOUR);
    const report = m.check(t + HOUR + 1000);
    c = byName(report.checks, 'ctr_trend');
    expect(c.value).toBeCloseTo(0, 12);
    expect(c.status).toBe('ok');
    expect(report.transitions.map((x) => [x.name, x.from, x.to])).toEqual([['ctr_trend', 'alert', 'ok']]);
    expect(m.alerts().active).toEqual([]);
    // the series holds one CTR per bucket of the window, oldest first
    expect(c.series?.slice(-2)).toEqual([0.05, 0.1]);
  });

  it('grades a 20% drop as warn', () => {
    const m = monitor();
    m.observeEvents(
      [...repeat(1000, () => ev('impression')), ...repeat(80, () => ev('click'))],
      T0 + 50 * HOUR,
    );
    const c = byName(m.check(T0 + 50 * HOUR).checks, 'ctr_trend');
    expect(c.value).toBeCloseTo(0.2, 12);
    expect(c.status).toBe('warn');
  });
});

describe('concentration', () => {
  // reference: 100 items, 50 interactions each
  const reference = repeat(5000, (k) => ev('view', `i${k % 100}`, `u${k}`));

  it('alerts when interactions pile onto a few items and not when they stay spread', () => {
    const spread = new DriftMonitor({ minConcentrationSample: 500 });
    spread.setReferenceFromEvents(reference);
    // uniform random draws: as uneven as a sample of the reference would be by chance
    const rng = new Rng(3);
    spread.observeEvents(
      repeat(2000, (k) => ev('view', `i${rng.int(100)}`, `u${k}`)),
      T0,
    );
    const ok = byName(spread.check(T0).checks, 'interaction_concentration');
    expect(ok.sufficient).toBe(true);
    expect(Math.abs(ok.value)).toBeLessThan(0.05);
    expect(ok.status).toBe('ok');

    const piled = new DriftMonitor({ minConcentrationSample: 500 });
    piled.setReferenceFromEvents(reference);
    piled.observeEvents(
      repeat(2000, (k) => ev('view', `i${k % 5}`, `u${k}`)),
      T0,
    );
    const bad = byName(piled.check(T0).checks, 'interaction_concentration');
    // 5 of 100 items hold everything: Gini 0.95, vs about 0.1 for a uniform sample of 2000
    expect(bad.value).toBeGreaterThan(0.8);
    expect(bad.status).toBe('alert');
  });

  it('needs the minimum sample', () => {
    const m = new DriftMonitor({ minConcentrationSample: 500 });
    m.setReferenceFromEvents(reference);
    m.observeEvents(
      repeat(100, () => ev('view', 'i1')),
      T0,
    );
    const c = byName(m.check(T0).checks, 'interaction_concentration');
    expect(c.sufficient).toBe(false);
    expect(c.status).toBe('ok');
  });
});

describe('DriftMonitor window and PSI checks', () => {
  it('bins events by type, counting types unknown to the reference apart', () => {
    const m = new DriftMonitor({ minSample: 10 });
    m.setReferenceFromEvents([...repeat(50, () => ev('view')), ...repeat(50, () => ev('click'))]);
    m.observeEvents([...repeat(25, () => ev('view')), ...repeat(25, () => ev('click'))], T0);
    expect(byName(m.check(T0).checks, 'event_type_psi').value).toBeCloseTo(0, 12);
    m.observeEvents(
      repeat(50, () => ev('search')),
      T0,
    );
    // shares (0.5, 0.5, 0) → (0.25, 0.25, 0.5) with 'other' floored at 1e-4
    const expected = 2 * (0.25 - 0.5) * Math.log(0.5) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
    const c = byName(m.check(T0).checks, 'event_type_psi');
    expect(c.value).toBeCloseTo(expected, 10);
    expect(c.status).toBe('alert');
  });

  it('forgets observations older than the window', () => {
    const m = new DriftMonitor({ windowMs: 4 * HOUR, buckets: 4, minSample: 10 });
    m.setReferenceFromEvents(repeat(100, () => ev('view')));
    m.observeEvents(
      repeat(20, () => ev('view')),
      T0,
    );
    expect(m.check(T0 + HOUR).events).toBe(20);
    expect(m.check(T0 + 3 * HOUR).events).toBe(20);
    const later = m.check(T0 + 4 * HOUR);
    expect(later.events).toBe(0);
    expect(byName(later.checks, 'event_type_psi').sufficient).toBe(false);
  });

  it('bins served scores on the reference quantiles and ignores scores before a reference', () => {
    const m = new DriftMonitor({ minSample: 100 });
    m.observeScores([1, 2, 3], T0);
    const scores = Float64Array.from({ length: 1000 }, (_, k) => k / 1000);
    m.setReferenceFromEvents([], { scores, scoreBins: 4 });
    m.observeScores(scores, T0);
    const same = byName(m.check(T0).checks, 'score_psi');
    expect(same.sample).toBe(1000);
    expect(same.value).toBeCloseTo(0, 12);
    m.observeScores(new Float64Array(1000).fill(0.9), T0);
    // live shares (0.25, 0.25, 0.25, 1.25) / 2 vs 0.25 each
    const shifted = byName(m.check(T0).checks, 'score_psi');
    const e = 0.25;
    const expected = 3 * (0.125 - e) * Math.log(0.125 / e) + (0.625 - e) * Math.log(0.625 / e);
    expect(shifted.value).toBeCloseTo(expected, 10);
  });

  it('measures user activity per closed bucket only', () => {
    const m = new DriftMonitor({ windowMs: 4 * HOUR, buckets: 4, minSample: 2 });
    // reference: in each hour u0 does 3 interactions and u1 one
    const refEvents = repeat(8, (k) =>
      ev('view', 'i0', k % 4 === 3 ? 'u1' : 'u0', T0 + Math.floor(k / 4) * HOUR),
    );
    const ref = m.setReferenceFromEvents(refEvents);
    expect(ref.activityHist?.[log2Bin(3)]).toBe(2);
    expect(ref.activityHist?.[log2Bin(1)]).toBe(2);
    const t = T0 + 10 * HOUR;
    m.observeEvents(
      [ev('view', 'i0', 'u0'), ev('view', 'i0', 'u0'), ev('view', 'i0', 'u0'), ev('view', 'i0', 'u1')],
      t,
    );
    const open = byName(m.check(t).checks, 'user_activity_psi');
    expect(open.sample).toBe(0);
    const closed = byName(m.check(t + HOUR).checks, 'user_activity_psi');
    expect(closed.sample).toBe(2);
    expect(closed.value).toBeCloseTo(0, 12);
  });
});

describe('referenceFromInteractions', () => {
  it('takes item popularity and activity from the snapshot', () => {
    const data = interactionsFromArrays({
      userIds: ['u1', 'u1', 'u2', 'u3'],
      itemIds: ['a', 'a', 'a', 'b'],
      timestamps: [0, 1000, 2000, 3000],
      catalog: ['a', 'b', 'c'],
    });
    const ref = referenceFromInteractions(data, { sliceMs: HOUR, ctr: { clicks: 5, impressions: 100 } });
    expect(ref.itemPopularity.get('a')).toBe(3);
    expect(ref.itemPopularity.get('b')).toBe(1);
    expect(ref.itemPopularity.has('c')).toBe(false);
    // interactions weighted by their item's popularity bin: 3 on a (bin 2), 1 on b (bin 1)
    expect(ref.popularityHist[2]).toBe(3);
    expect(ref.popularityHist[1]).toBe(1);
    // one slice: u1 twice (bin 2), u2 and u3 once (bin 1)
    expect(ref.activityHist?.[2]).toBe(1);
    expect(ref.activityHist?.[1]).toBe(2);
    expect(ref.typeCounts).toBeNull();
    expect(ref.ctr).toEqual({ clicks: 5, impressions: 100 });
  });
});

describe('AlertBook', () => {
  const outcome = (status: CheckOutcome['status'], value: number, sufficient = true): CheckOutcome => ({
    name: 'score_psi',
    statistic: 'psi',
    value,
    threshold: { warn: 0.1, alert: 0.25 },
    status,
    sufficient,
    detail: `psi ${value}`,
  });

  it('opens, escalates, keeps and resolves an alert, logging each change', () => {
    const book = new AlertBook();
    expect(book.update([outcome('ok', 0.01)], 1)).toEqual([]);
    expect(book.update([outcome('warn', 0.12)], 2).map((t) => t.to)).toEqual(['warn']);
    expect(book.update([outcome('alert', 0.3)], 3).map((t) => [t.from, t.to])).toEqual([['warn', 'alert']]);
    expect(book.update([outcome('alert', 0.4)], 4)).toEqual([]);
    // too little data leaves the state alone
    expect(book.update([outcome('ok', 0, false)], 5)).toEqual([]);
    const [a] = book.view().active;
    expect(a).toMatchObject({ status: 'alert', value: 0.4, firstSeen: 2, since: 3, lastSeen: 4 });
    expect(book.update([outcome('ok', 0.02)], 6).map((t) => [t.from, t.to])).toEqual([['alert', 'ok']]);
    const view = book.view();
    expect(view.active).toEqual([]);
    expect(view.recent.map((t) => [t.at, t.to])).toEqual([
      [6, 'ok'],
      [3, 'alert'],
      [2, 'warn'],
    ]);
  });

  it('keeps a bounded log', () => {
    const book = new AlertBook(3);
    for (let k = 0; k < 10; k++) book.update([outcome(k % 2 === 0 ? 'alert' : 'ok', k)], k);
    expect(book.view().recent.map((t) => t.at)).toEqual([9, 8, 7]);
  });
});
