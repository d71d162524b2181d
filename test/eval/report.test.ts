import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as vega from 'vega';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExperimentResult } from '../../src/eval/experiment-result.js';
import { escapeHtml } from '../../src/eval/report/escape.js';
import {
  decimalsFor,
  formatDifference,
  formatParams,
  formatPValue,
  formatSummary,
} from '../../src/eval/report/format.js';
import { renderReport, writeReport } from '../../src/eval/report/html.js';
import { experimentFixture } from './fixtures/experiment-result.js';

/** Visible text of a fragment: tags dropped, entities of the escaper decoded. */
function text(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

function between(html: string, start: string, end: string): string {
  const i = html.indexOf(start);
  const j = html.indexOf(end, i);
  expect(i).toBeGreaterThanOrEqual(0);
  expect(j).toBeGreaterThan(i);
  return html.slice(i, j);
}

const count = (html: string, re: RegExp): number => html.match(re)?.length ?? 0;

describe('format', () => {
  it('shows a mean with four decimals and its interval with three', () => {
    expect(formatSummary({ mean: 0.4651, low: 0.449, high: 0.481 })).toBe('0.4651 [0.449, 0.481]');
    expect(formatSummary({ mean: 9.8765, low: 9.81, high: 9.94 })).toBe('9.8765 [9.810, 9.940]');
    expect(formatSummary({ mean: 10.321, low: 10.25, high: 10.39 })).toBe('10.321 [10.25, 10.39]');
  });

  it('drops an empty interval and marks missing values', () => {
    expect(formatSummary({ mean: 0.3121, low: 0.3121, high: 0.3121 })).toBe('0.3121');
    expect(formatSummary({ mean: null as unknown as number, low: 0, high: 0 })).toBe('–');
    expect(formatSummary(undefined)).toBe('–');
  });

  it('keeps about four significant digits for small values', () => {
    expect(decimalsFor(0.0031)).toBe(5);
    expect(decimalsFor(0.5)).toBe(4);
    expect(decimalsFor(123.4)).toBe(2);
  });

  it('signs differences and formats p-values', () => {
    expect(formatDifference(0.0324, 0.0121, 0.0527)).toBe('+0.0324 [0.012, 0.053]');
    expect(formatDifference(-0.0324, -0.0527, -0.0121)).toBe('−0.0324 [−0.053, −0.012]');
    expect(formatPValue(0.0021)).toBe('0.0021');
    expect(formatPValue(0.00001)).toBe('< 0.0001');
  });

  it('lists settings compactly', () => {
    expect(formatParams({ factors: 64, reg: 0.05, implicit: true })).toBe(
      'factors=64, reg=0.05, implicit=true',
    );
    expect(formatParams({})).toBe('defaults');
  });

  it('escapes markup and quotes', () => {
    expect(escapeHtml(`<a href="x" title='y'>&`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;');
  });
});

describe('renderReport', () => {
  let result: ExperimentResult;
  let html: string;
  const originalWidth = (vega as unknown as { textMetrics: { width: unknown } }).textMetrics.width;

  beforeAll(async () => {
    result = experimentFixture();
    html = await renderReport(result);
  });

  it('is one HTML document with inline styles and no scripts', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(count(html, /<style>/g)).toBe(1);
    expect(/<script/i.test(html)).toBe(false);
    expect(/<link\b/i.test(html)).toBe(false);
  });

  it('has one SVG per chart: comparison, metrics by K, quality against time, one per search', () => {
    expect(count(html, /<svg\b/g)).toBe(3 + result.searches.length);
    expect(count(html, /<figure>/g)).toBe(3 + result.searches.length);
  });

  it('references nothing over the network', () => {
    expect(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i.test(html)).toBe(false);
    expect(/@import/i.test(html)).toBe(false);
    expect(/url\s*\(/i.test(html)).toBe(false);
    // The only http(s) strings are SVG namespace declarations.
    const urls = html.match(/https?:\/\/[^"'\s)]+/g) ?? [];
    expect(new Set(urls)).toEqual(new Set(['http://www.w3.org/2000/svg', 'http://www.w3.org/1999/xlink']));
    expect(html.includes('href="docs/metrics.md"')).toBe(true);
  });

  it('states the experiment, its data, split and protocol', () => {
    const head = text(between(html, '<header', '<section aria-labelledby="results"'));
    expect(head).toContain('MovieLens 100K: matrix factorisation against popularity');
    expect(head).toContain('2025-03-01 14:05 UTC');
    expect(head).toContain('943 users · 1,682 items · 100,000 interactions');
    expect(head).toContain('movielens-100k (u.data)');
    expect(head).toContain('holdout: last 20% of each user’s interactions by time · 1 fold · seed 42');
    expect(head).toContain('K = 5, 10 (main 10)');
    expect(head).toContain('NDCG@10');
    expect(head).toContain('95% confidence');
  });

  it('lists runs best first with their headline numbers and settings', () => {
    const table = between(html, '<table class="headline"', '</table>');
    const rows = table.split('<tr>').slice(2).map(text);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toContain('als (factors=64)');
    expect(rows[0]).toContain('als: factors=64, regularization=0.05, iterations=15');
    expect(rows[0]).toContain('0.4651 [0.449, 0.481]');
    expect(rows[0]).toContain('0.3526 [0.338, 0.368]');
    expect(rows[0]).toContain('4.20');
    expect(rows[1]).toContain('bpr');
    expect(rows[1]).toContain('0.4327 [0.417, 0.449]');
    expect(rows[1]).toContain('10.321 [10.25, 10.39]');
    expect(rows[2]).toContain('popularity: defaults');
    expect(rows[2]).toContain('0.2408 [0.228, 0.254]');
    expect(rows[2]).toContain('0.012');
    for (const h of [
      'Precision@10',
      'Recall@10',
      'NDCG@10',
      'MAP@10',
      'MRR@10',
      'Hit rate@10',
      'AUC',
      'Coverage',
      'Novelty',
      'Fit (s)',
    ]) {
      expect(text(table)).toContain(h);
    }
  });

  it('highlights the best value of each column', () => {
    const table = between(html, '<table class="headline"', '</table>');
    expect(table).toContain('<td class="num best">0.4651');
    expect(table).toContain('<td class="num best">0.9201'); // AUC: bpr
    expect(table).toContain('<td class="num best">0.012'); // fastest fit
    expect(table).not.toContain('<td class="num best">0.4327');
    // Six ranking metrics (als), AUC, coverage, novelty (bpr), fit time (popularity).
    expect(count(table, /class="num best"/g)).toBe(10);
  });

  it('tabulates the paired comparisons with their significance', () => {
    const rows = between(html, '<table class="comparisons"', '</table>').split('<tr>').slice(2).map(text);
    expect(rows[0]).toContain('+0.0324 [0.012, 0.053]');
    expect(rows[0]).toContain('0.0021');
    expect(rows[0]).toContain('paired t-test');
    expect(rows[0]).toMatch(/ significant als \(factors=64\) higher/);
    expect(rows[1]).toContain('0.3712');
    expect(rows[1]).toContain('not significant');
  });

  it('shows each search with its best setting', () => {
    const row = text(between(html, '<table class="searches"', '</table>').split('<tr>')[2]);
    expect(row).toContain('als');
    expect(row).toContain('regularization=0.05, factors=64');
    expect(row).toContain('0.4580');
    expect(row).toMatch(/ 6 2 17\.3 /);
  });

  it('puts run labels into the charts', () => {
    const charts = between(html, '<section aria-labelledby="charts"', '</section>');
    for (const run of result.runs) expect(charts).toContain(`>${escapeHtml(run.label)}</text>`);
  });

  it('restores Vega text measurement after rendering', () => {
    expect((vega as unknown as { textMetrics: { width: unknown } }).textMetrics.width).toBe(originalWidth);
  });
});

describe('renderReport with hostile or missing data', () => {
  it('escapes every string from the results', async () => {
    const r = experimentFixture();
    const evil = '<script>alert(1)</script>';
    r.name = `${evil} <img src=x onerror=alert(2)>`;
    r.data.source = '"><iframe src="https://example.com">';
    r.runs[2].label = evil;
    r.runs[2].model = '<b>als</b>';
    r.runs[2].params = {
      'x"><svg onload=alert(3)>': "'><style>@import url(https://example.com/x.css)</style>",
    };
    r.comparisons[0].a = evil;
    r.comparisons[0].test = '<u>t</u>';
    r.searches[0].model = evil;
    r.searches[0].best = { evil: '</td><script>alert(4)</script>' };
    const html = await renderReport(r);
    for (const raw of [/<script/i, /<img/i, /<iframe/i, /<b>als/, /<u>t/, /<svg onload/i, /<\/td><script/i]) {
      expect(raw.test(html), String(raw)).toBe(false);
    }
    // One style element, the report's own; the injected one is text.
    expect(count(html, /<style>/g)).toBe(1);
    expect(/@import/i.test(between(html, '<style>', '</style>'))).toBe(false);
    expect(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;')).toBe(true);
    expect(text(html)).toContain(evil);
  });

  it('renders an experiment without runs, comparisons or searches', async () => {
    const r = experimentFixture();
    r.runs = [];
    r.comparisons = [];
    r.searches = [];
    const html = await renderReport(r);
    expect(count(html, /<svg\b/g)).toBe(0);
    expect(html).toContain('This experiment has no runs.');
    expect(html).toContain('No paired comparisons were made in this experiment.');
    expect(html).not.toContain('Settings searches');
  });

  it('sorts by a lower-is-better primary metric such as RMSE', async () => {
    const r = experimentFixture();
    r.protocol.primaryMetric = 'rmse';
    const rmse = { popularity: 1.02, bpr: 0.91, 'als (factors=64)': 0.95 } as Record<string, number>;
    for (const run of r.runs)
      run.scalar.rmse = { mean: rmse[run.label], low: rmse[run.label], high: rmse[run.label] };
    const html = await renderReport(r);
    const rows = between(html, '<table class="headline"', '</table>').split('<tr>').slice(2).map(text);
    expect(rows.map((row) => row.split(' ')[2])).toEqual(['bpr', 'als', 'popularity']);
    expect(html.includes('<td class="num best">0.9100')).toBe(true);
    expect(count(html, /<svg\b/g)).toBe(3 + r.searches.length);
  });

  it('shows a dash for a metric that could not be computed', async () => {
    const r = experimentFixture();
    // NaN does not survive JSON: it arrives as null.
    r.runs[0].scalar.auc = JSON.parse('{"mean":null,"low":null,"high":null}');
    const html = await renderReport(r);
    const table = between(html, '<table class="headline"', '</table>');
    const popularityRow = table.split('<tr>').find((row) => row.includes('popularity: defaults'));
    expect(popularityRow).toContain('<td class="num">–</td>');
  });
});

describe('writeReport', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'kindred-report-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the rendered report, replacing an older file, and leaves no temporary file', async () => {
    const file = path.join(dir, 'report.html');
    await writeFile(file, 'old');
    const result = experimentFixture();
    await writeReport(result, file);
    expect(await readFile(file, 'utf8')).toBe(await renderReport(result));
    expect(await readdir(dir)).toEqual(['report.html']);
  });

  it('removes its temporary file when the final rename fails', async () => {
    const sub = path.join(dir, 'sub');
    // A folder where the report should go: the rename onto it fails after the write.
    await mkdir(path.join(sub, 'report.html'), { recursive: true });
    await expect(writeReport(experimentFixture(), path.join(sub, 'report.html'))).rejects.toThrow();
    expect(await readdir(sub)).toEqual(['report.html']);
  });
});
