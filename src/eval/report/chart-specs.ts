/**
 * Vega-Lite specifications of the report's charts, built from the results alone. Values from the
 * results file go into the charts only as data (never into expressions or field names).
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ExperimentResult, ModelRun, SearchTrace } from '../experiment-result.js';
import { formatNumber, isFiniteNumber, paramsKey } from './format.js';
import {
  lowerIsBetter,
  metricAtK,
  metricLabel,
  presentMetrics,
  RANKING_METRICS,
  summaryOf,
} from './metric-names.js';

/** Font stack of the page, so chart text matches the surrounding text. */
export const CHART_FONT = '-apple-system, BlinkMacSystemFont, Segoe UI, Roboto, Helvetica, Arial, sans-serif';

/** Okabe–Ito colours (distinguishable with the common colour-vision deficiencies), yellow replaced by grey. */
export const PALETTE = [
  '#0072B2',
  '#D55E00',
  '#009E73',
  '#CC79A7',
  '#E69F00',
  '#56B4E9',
  '#000000',
  '#777777',
];
const SHAPES = ['circle', 'square', 'triangle-up', 'diamond', 'triangle-down', 'cross', 'triangle-right'];
const MUTED = '#9aa3ae';
/** Smallest fit time drawn on the log axis (a zero cannot be placed on it). */
const MIN_SECONDS = 0.001;

const CONFIG = {
  font: CHART_FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#d9dee4' },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal' as const,
    labelColor: '#3b4450',
    titleColor: '#1f2630',
    gridColor: '#eceff3',
    domainColor: '#8a94a0',
    tickColor: '#8a94a0',
    labelLimit: 220,
  },
  legend: {
    symbolOpacity: 1,
    labelFontSize: 11,
    titleFontSize: 12,
    labelLimit: 260,
    titleColor: '#1f2630',
    labelColor: '#3b4450',
  },
  header: { labelFontSize: 12, labelFontWeight: 'bold' as const, labelColor: '#1f2630' },
};

/** Run order of the report: best primary metric at the main K first. */
export function sortedRuns(result: ExperimentResult): ModelRun[] {
  const { primaryMetric, mainK } = result.protocol;
  const lower = lowerIsBetter(primaryMetric);
  const score = (r: ModelRun): number => {
    const m = summaryOf(r, primaryMetric, mainK)?.mean;
    return isFiniteNumber(m) ? (lower ? -m : m) : -Infinity;
  };
  return [...result.runs].sort(
    (a, b) => score(b) - score(a) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0),
  );
}

function colourScale(labels: string[]) {
  return {
    domain: labels,
    range: labels.map((_, i) => PALETTE[i % PALETTE.length]),
  };
}

function shapeScale(labels: string[]) {
  return { domain: labels, range: labels.map((_, i) => SHAPES[i % SHAPES.length]) };
}

/** (1) Each ranking metric against K, one line per run, one small chart per metric. */
export function metricsByKSpec(result: ExperimentResult): TopLevelSpec | null {
  const runs = sortedRuns(result);
  const labels = runs.map((r) => r.label);
  const metrics = presentMetrics(runs, (r) => r.atK, RANKING_METRICS);
  const values: Record<string, string | number>[] = [];
  for (const run of runs) {
    for (const metric of metrics) {
      for (const k of result.protocol.ks) {
        const s = run.atK[metric]?.[String(k)];
        if (!s || !isFiniteNumber(s.mean)) continue;
        values.push({
          run: run.label,
          metric: metricLabel(metric),
          k,
          mean: s.mean,
          low: isFiniteNumber(s.low) ? s.low : s.mean,
          high: isFiniteNumber(s.high) ? s.high : s.mean,
        });
      }
    }
  }
  if (values.length === 0) return null;
  const color = { field: 'run', type: 'nominal' as const, title: 'Run', scale: colourScale(labels) };
  const x = {
    field: 'k',
    type: 'ordinal' as const,
    title: 'K',
    sort: 'ascending' as const,
    axis: { labelAngle: 0 },
  };
  return {
    config: CONFIG,
    data: { values },
    facet: {
      field: 'metric',
      type: 'nominal',
      title: null,
      sort: metrics.map(metricLabel),
    },
    columns: 3,
    spacing: { row: 16, column: 24 },
    spec: {
      width: 210,
      height: 150,
      layer: [
        {
          mark: { type: 'area', opacity: 0.12 },
          encoding: { x, y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' }, color },
        },
        {
          mark: { type: 'line', strokeWidth: 2 },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative', title: 'Mean', scale: { zero: false } },
            color,
          },
        },
        {
          mark: { type: 'point', filled: true, size: 45, opacity: 1 },
          encoding: {
            x,
            y: { field: 'mean', type: 'quantitative' },
            color,
            shape: { field: 'run', type: 'nominal', title: 'Run', scale: shapeScale(labels) },
          },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
}

/** (2) The primary metric at the main K per run, with its confidence interval. */
export function comparisonSpec(result: ExperimentResult): TopLevelSpec | null {
  const { primaryMetric, mainK, confidence } = result.protocol;
  const runs = sortedRuns(result);
  const labels = runs.map((r) => r.label);
  const values = runs.flatMap((run) => {
    const s = summaryOf(run, primaryMetric, mainK);
    if (!s || !isFiniteNumber(s.mean)) return [];
    const low = isFiniteNumber(s.low) ? s.low : s.mean;
    const high = isFiniteNumber(s.high) ? s.high : s.mean;
    return [{ run: run.label, mean: s.mean, low, high, text: formatNumber(s.mean) }];
  });
  if (values.length === 0) return null;
  const y = { field: 'run', type: 'nominal' as const, title: null, sort: labels };
  const color = { field: 'run', type: 'nominal' as const, scale: colourScale(labels), legend: null };
  const level = isFiniteNumber(confidence) ? `${Number((confidence * 100).toFixed(2))}% CI` : 'CI';
  return {
    config: CONFIG,
    data: { values },
    width: 520,
    height: { step: 30 },
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 2.5 },
        encoding: {
          y,
          x: {
            field: 'low',
            type: 'quantitative',
            title: `${metricAtK(primaryMetric, mainK)} (mean and ${level})`,
            scale: { zero: false },
            axis: { tickCount: 6 },
          },
          x2: { field: 'high' },
          color,
        },
      },
      {
        mark: { type: 'point', filled: true, size: 90, opacity: 1 },
        encoding: { y, x: { field: 'mean', type: 'quantitative' }, color },
      },
      {
        mark: { type: 'text', align: 'left', dx: 7, fontSize: 11, color: '#3b4450' },
        encoding: { y, x: { field: 'high', type: 'quantitative' }, text: { field: 'text' } },
      },
    ],
  };
}

/** Powers of ten from lo to hi (both powers of ten). */
function decades(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.round(Math.log10(lo)); e <= Math.round(Math.log10(hi)); e++) out.push(Number(`1e${e}`));
  return out;
}

/** (3) Primary metric against fit time (log scale), one labelled point per run. */
export function qualityVsTimeSpec(result: ExperimentResult): TopLevelSpec | null {
  const { primaryMetric, mainK } = result.protocol;
  const runs = sortedRuns(result);
  const labels = runs.map((r) => r.label);
  const values = runs.flatMap((run) => {
    const s = summaryOf(run, primaryMetric, mainK);
    if (!s || !isFiniteNumber(s.mean) || !isFiniteNumber(run.fitSeconds)) return [];
    return [
      {
        run: run.label,
        seconds: Math.max(run.fitSeconds, MIN_SECONDS),
        mean: s.mean,
        low: isFiniteNumber(s.low) ? s.low : s.mean,
        high: isFiniteNumber(s.high) ? s.high : s.mean,
      },
    ];
  });
  if (values.length === 0) return null;
  const secs = values.map((v) => v.seconds);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...secs)));
  let hi = 10 ** Math.ceil(Math.log10(Math.max(...secs)));
  if (hi <= lo) hi = lo * 10;
  const x = {
    field: 'seconds',
    type: 'quantitative' as const,
    title: 'Fit time per fold (seconds, log scale)',
    scale: { type: 'log' as const, domain: [lo, hi], padding: 12 },
    axis: { format: '~g', values: decades(lo, hi) },
  };
  const color = { field: 'run', type: 'nominal' as const, scale: colourScale(labels), legend: null };
  return {
    config: CONFIG,
    data: { values },
    width: 520,
    height: 280,
    layer: [
      {
        mark: { type: 'rule', strokeWidth: 1.5, opacity: 0.7 },
        encoding: {
          x,
          y: {
            field: 'low',
            type: 'quantitative',
            title: metricAtK(primaryMetric, mainK),
            scale: { zero: false, padding: 10 },
          },
          y2: { field: 'high' },
          color,
        },
      },
      {
        mark: { type: 'point', filled: true, size: 80, opacity: 1 },
        encoding: {
          x,
          y: { field: 'mean', type: 'quantitative' },
          color,
          shape: { field: 'run', type: 'nominal', scale: shapeScale(labels), legend: null },
        },
      },
      {
        mark: { type: 'text', align: 'left', baseline: 'middle', dx: 8, fontSize: 11, color: '#1f2630' },
        encoding: { x, y: { field: 'mean', type: 'quantitative' }, text: { field: 'run' } },
      },
    ],
  };
}

/** (4) Trial scores of one search against its successive-halving rungs; the best setting highlighted. */
export function searchSpec(result: ExperimentResult, search: SearchTrace): TopLevelSpec | null {
  const { primaryMetric, mainK } = result.protocol;
  const bestKey = paramsKey(search.best);
  const rungBudget = new Map<number, number>();
  for (const t of search.trials) {
    if (!rungBudget.has(t.rung) && isFiniteNumber(t.budget)) rungBudget.set(t.rung, t.budget);
  }
  const rungLabel = (rung: number): string => {
    const b = rungBudget.get(rung);
    return b === undefined ? `rung ${rung}` : `rung ${rung} (${Number((b * 100).toPrecision(3))}%)`;
  };
  const rungs = [...new Set(search.trials.map((t) => t.rung))].sort((a, b) => a - b);
  const values = search.trials
    .filter((t) => isFiniteNumber(t.score))
    .map((t) => {
      const key = paramsKey(t.params);
      return {
        setting: key,
        rung: rungLabel(t.rung),
        score: t.score,
        kind: key === bestKey ? 'best setting' : 'other settings',
      };
    });
  if (values.length === 0) return null;
  const x = {
    field: 'rung',
    type: 'ordinal' as const,
    title: 'Rung (share of the full budget)',
    sort: rungs.map(rungLabel),
    axis: { labelAngle: 0 },
  };
  const y = {
    field: 'score',
    type: 'quantitative' as const,
    title: `Validation ${metricAtK(primaryMetric, mainK)}`,
    scale: { zero: false, padding: 10 },
  };
  const color = {
    field: 'kind',
    type: 'nominal' as const,
    title: null,
    scale: { domain: ['best setting', 'other settings'], range: [PALETTE[0], MUTED] },
    legend: { orient: 'bottom' as const },
  };
  const only = (kind: string) => [{ filter: { field: 'kind', equal: kind } }];
  return {
    config: CONFIG,
    data: { values },
    width: 300,
    height: 200,
    layer: [
      {
        transform: only('other settings'),
        mark: { type: 'line', strokeWidth: 1.2, opacity: 0.6 },
        encoding: { x, y, detail: { field: 'setting', type: 'nominal' }, color },
      },
      {
        transform: only('other settings'),
        mark: { type: 'point', filled: true, size: 30, opacity: 1 },
        encoding: { x, y, color },
      },
      {
        transform: only('best setting'),
        mark: { type: 'line', strokeWidth: 2.5 },
        encoding: { x, y, detail: { field: 'setting', type: 'nominal' }, color },
      },
      {
        transform: only('best setting'),
        mark: { type: 'point', filled: true, size: 60, opacity: 1 },
        encoding: { x, y, color },
      },
    ],
  };
}
