import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/program.js';
import { ValidationError } from '../../src/domain/errors.js';
import type { ExperimentResult } from '../../src/eval/experiment-result.js';
import { parseExperiment } from '../../src/eval/experiment-spec.js';
import { runExperiment } from '../../src/eval/experiment.js';
import { rungCount, successiveHalving } from '../../src/eval/halving.js';
import { Rng } from '../../src/ingest/prng.js';
import { readSettings } from '../../src/models/settings-file.js';

let dir: string;
let ratings: string;

/**
 * Two taste groups of 30 users over two blocks of 40 items: each user rates 12 items, 11 from
 * their own block. Popularity cannot tell the groups apart; a collaborative model can.
 */
function writeGroupedRatings(file: string): void {
  const rng = new Rng(7);
  const lines: string[] = [];
  for (let u = 0; u < 60; u++) {
    const group = u < 30 ? 0 : 1;
    const chosen = new Set<number>();
    while (chosen.size < 11) chosen.add(group * 40 + Math.floor(rng.next() * 40));
    chosen.add((1 - group) * 40 + Math.floor(rng.next() * 40));
    let t = 1_000_000 + u;
    for (const i of chosen) lines.push(`u${u}\ti${i}\t${3 + Math.floor(rng.next() * 3)}\t${(t += 60)}`);
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindred-eval-'));
  ratings = path.join(dir, 'ratings.tsv');
  writeGroupedRatings(ratings);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

function experiment(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'grouped',
    data: { ratings: 'ratings.tsv' },
    split: { kind: 'random-per-user', testFraction: 0.25, seed: 3 },
    protocol: { ks: [5, 10], bootstrap: 200 },
    models: [{ name: 'popularity' }, { name: 'item-knn' }],
    ...extra,
  };
}

describe('experiment spec', () => {
  it('fills in defaults and resolves paths against the experiment folder', () => {
    const e = parseExperiment(experiment(), dir);
    expect(e.data).toEqual({ kind: 'ratings', file: ratings });
    expect(e.protocol.mainK).toBe(10);
    expect(e.protocol.metric).toBe('ndcg');
    expect(e.models.map((m) => m.label)).toEqual(['popularity', 'item-knn']);
  });

  it.each([
    [{ models: [] }, 'experiment.models'],
    [{ models: [{ name: 'nope' }] }, 'experiment.models.0'],
    [{ models: [{ name: 'als', params: { factors: -3 } }] }, 'experiment.models.0'],
    [{ protocol: { ks: [5], mainK: 10 } }, 'experiment.protocol.mainK'],
    [{ protocol: { metric: 'accuracy' } }, 'experiment.protocol.metric'],
    [{ split: { kind: 'random-per-user', testFraction: 2 } }, 'experiment.split.testFraction'],
    [{ models: [{ name: 'popularity', search: {} }] }, 'experiment.models.0.search.space'],
    [
      { models: [{ name: 'als', search: { validation: { kind: 'k-fold', folds: 3 } } }] },
      'experiment.models.0.search.validation',
    ],
    [{ colour: 'blue' }, 'experiment.colour'],
  ])('rejects %j naming %s', (patch, field) => {
    let error: unknown;
    try {
      parseExperiment(experiment(patch), dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const e = error as ValidationError;
    expect([e.message, ...e.details.map((d) => d.field)].join(' ')).toContain(field);
  });
});

describe('successive halving', () => {
  it('plans rungs by field size and smallest budget share', () => {
    expect(rungCount(1, 3, 1 / 9)).toBe(0);
    expect(rungCount(3, 3, 1 / 9)).toBe(1);
    expect(rungCount(27, 3, 1 / 9)).toBe(2);
    expect(rungCount(27, 3, 1)).toBe(0);
  });

  it('trains the first rung on a share of the budget and promotes the best third', async () => {
    const candidates = Array.from({ length: 9 }, (_, i) => ({ quality: i, epochs: 90 }));
    const seen: { quality: number; epochs: number }[] = [];
    const { best, trials } = await successiveHalving(
      candidates,
      async (p) => {
        seen.push({ quality: Number(p.quality), epochs: Number(p.epochs) });
        // More budget helps every setting; the ranking between settings stays.
        return { score: Number(p.quality) + Number(p.epochs) / 1000, result: null };
      },
      { budget: (p) => ({ param: 'epochs', value: Number(p.epochs) }) },
    );
    expect(trials).toHaveLength(9 + 3 + 1);
    expect(seen.slice(0, 9).every((s) => s.epochs === 10)).toBe(true);
    expect(seen.slice(9, 12).map((s) => [s.quality, s.epochs])).toEqual([
      [8, 30],
      [7, 30],
      [6, 30],
    ]);
    expect(seen[12]).toEqual({ quality: 8, epochs: 90 });
    // The winner is reported with its own (full) settings.
    expect(best.params).toEqual({ quality: 8, epochs: 90 });
    expect(best.share).toBe(1);
  });

  it('measures every candidate in full when the model has no budget', async () => {
    const calls: number[] = [];
    const { best } = await successiveHalving(
      [{ k: 1 }, { k: 3 }, { k: 2 }],
      async (p) => (calls.push(Number(p.k)), { score: Number(p.k), result: null }),
      { budget: () => null },
    );
    expect(calls).toEqual([1, 3, 2]);
    expect(best.params).toEqual({ k: 3 });
  });
});

describe('runExperiment', () => {
  it('measures every model with intervals, compares them and beats popularity with a collaborative model', async () => {
    const checkpoints: ExperimentResult[] = [];
    const result = await runExperiment(parseExperiment(experiment(), dir), {
      modelsDir: null,
      checkpoint: (r) => checkpoints.push(r),
    });
    expect(result.runs.map((r) => r.label)).toEqual(['popularity', 'item-knn']);
    expect(checkpoints.map((c) => c.runs.length)).toEqual([1, 2]);
    const [pop, knn] = result.runs;
    for (const r of result.runs) {
      for (const k of ['5', '10']) {
        const s = r.atK.ndcg[k];
        expect(s.low).toBeLessThanOrEqual(s.mean);
        expect(s.high).toBeGreaterThanOrEqual(s.mean);
      }
      expect(r.users).toBe(60);
      expect(r.scalar.auc.mean).toBeGreaterThan(0);
      expect(r.scalar.coverage.mean).toBeGreaterThan(0);
    }
    expect(knn.atK.ndcg['10'].mean).toBeGreaterThan(pop.atK.ndcg['10'].mean + 0.1);
    expect(result.comparisons).toHaveLength(1);
    expect(result.comparisons[0]).toMatchObject({
      a: 'item-knn',
      b: 'popularity',
      metric: 'ndcg',
      k: 10,
      pairs: 60,
    });
    expect(result.comparisons[0].pValue).toBeLessThan(0.05);
  });

  it('averages k folds, testing every row once', async () => {
    const result = await runExperiment(
      parseExperiment(
        experiment({ split: { kind: 'k-fold', folds: 3, seed: 1 }, models: [{ name: 'popularity' }] }),
        dir,
      ),
      { modelsDir: null },
    );
    expect(result.split.folds).toBe(3);
    // Users are measured once per fold in which they have a test row.
    expect(result.runs[0].users).toBeGreaterThan(60);
    expect(result.runs[0].users).toBeLessThanOrEqual(180);
  });

  it('stops at the next model when interrupted and returns what is finished', async () => {
    const controller = new AbortController();
    const result = await runExperiment(parseExperiment(experiment(), dir), {
      modelsDir: null,
      signal: controller.signal,
      checkpoint: () => controller.abort(),
    });
    expect(result.runs.map((r) => r.label)).toEqual(['popularity']);
  });
});

describe('kindred eval', () => {
  it('searches on a validation split, saves the winner for kindred train, and writes results and a report', async () => {
    const file = path.join(dir, 'search.json');
    writeFileSync(
      file,
      JSON.stringify(
        experiment({
          models: [
            { name: 'popularity' },
            {
              name: 'als',
              params: { iterations: 9 },
              search: { space: { factors: [4, 8], regularization: [0.1, 5] }, method: 'grid' },
            },
          ],
        }),
      ),
    );
    const out = path.join(dir, 'out');
    const dataDir = path.join(dir, 'data');
    const log: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
    expect(await run(['eval', file, '--out', out, '--data-dir', dataDir])).toBe(0);
    const result = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as ExperimentResult;
    expect(result.searches).toHaveLength(1);
    const search = result.searches[0];
    // 4 settings at a third of the 9 iterations, then the best one in full.
    expect(search.trials.map((t) => t.budget)).toEqual([1 / 3, 1 / 3, 1 / 3, 1 / 3, 1]);
    expect(result.runs[1].params).toEqual(search.best);
    const saved = readSettings(path.join(dataDir, 'models'));
    expect(saved.als.params).toEqual(search.best);
    expect(saved.als.source.metric).toBe('ndcg@10');
    const html = readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(readdirSync(out).sort()).toEqual(['report.html', 'results.json']);
    expect(log.join('\n')).toMatch(/\| als \| [0-9.]+ \|/);

    // kindred train now uses the saved settings (an explicit --param still wins).
    expect(
      await run([
        'import',
        'events',
        ratings,
        '--data-dir',
        dataDir,
        '--no-header',
        '--user',
        '0',
        '--item',
        '1',
        '--value',
        '2',
        '--time',
        '3',
        '-q',
      ]),
    ).toBe(0);
    expect(
      await run(['train', '--models', 'als', '--data-dir', dataDir, '--param', 'als.iterations=2']),
    ).toBe(0);
    const models = readdirSync(path.join(dataDir, 'models', 'als')).filter((f) => f.endsWith('.kdm'));
    expect(models).toHaveLength(1);
    expect(log.join('\n')).toContain(`als: using saved settings ${JSON.stringify(search.best)}`);
  });

  it('rejects a bad experiment with a message naming the field', async () => {
    const file = path.join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify(experiment({ protocol: { ks: [0] } })));
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    expect(await run(['eval', file, '--out', path.join(dir, 'bad-out')])).toBe(1);
    expect(errors.join('\n')).toContain('experiment.protocol.ks.0');
    expect(existsSync(path.join(dir, 'bad-out'))).toBe(false);
  });
});
