/** HTML tables of the report: headline metrics, paired comparisons and search results. */
import type { ExperimentResult, MetricSummary, ModelRun } from '../experiment-result.js';
import { escapeHtml as e } from './escape.js';
import {
  formatDifference,
  formatInteger,
  formatNumber,
  formatParams,
  formatPValue,
  formatSeconds,
  formatSummaryParts,
  isFiniteNumber,
} from './format.js';
import { sortedRuns } from './chart-specs.js';
import {
  lowerIsBetter,
  metricAtK,
  metricLabel,
  presentMetrics,
  RANKING_METRICS,
  SCALAR_METRICS,
} from './metric-names.js';

/** Significance level of the paired comparisons. */
export const ALPHA = 0.05;

interface Column {
  name: string;
  header: string;
  lower: boolean;
  value: (run: ModelRun) => MetricSummary | undefined;
}

function direction(lower: boolean): string {
  return lower
    ? ' <span class="dir" aria-label="lower is better" title="lower is better">↓</span>'
    : ' <span class="dir" aria-label="higher is better" title="higher is better">↑</span>';
}

/** Means equal to the best of the column, when at least two runs have a value. */
function bestOf(values: (number | undefined)[], lower: boolean): number | undefined {
  const finite = values.filter(isFiniteNumber);
  if (finite.length < 2) return undefined;
  const best = lower ? Math.min(...finite) : Math.max(...finite);
  return finite.every((v) => v === best) ? undefined : best;
}

function summaryCell(s: MetricSummary | undefined, best: number | undefined): string {
  const { mean, ci } = formatSummaryParts(s);
  const isBest = best !== undefined && s !== undefined && s.mean === best;
  const cls = isBest ? 'num best' : 'num';
  const mark = isBest ? '<span class="visually-hidden"> (best)</span>' : '';
  const interval = ci === null ? '' : ` <span class="ci">${e(ci)}</span>`;
  return `<td class="${cls}">${e(mean)}${interval}${mark}</td>`;
}

/** One row per run, best primary metric first; metrics at the main K with their intervals. */
export function headlineTable(result: ExperimentResult): string {
  const { mainK, primaryMetric } = result.protocol;
  const runs = sortedRuns(result);
  if (runs.length === 0) return '<p class="empty">This experiment has no runs.</p>';
  const columns: Column[] = [
    ...presentMetrics(runs, (r) => r.atK, RANKING_METRICS).map((name) => ({
      name,
      header: metricAtK(name, mainK),
      lower: lowerIsBetter(name),
      value: (run: ModelRun) => run.atK[name]?.[String(mainK)],
    })),
    ...presentMetrics(runs, (r) => r.scalar, SCALAR_METRICS).map((name) => ({
      name,
      header: metricLabel(name),
      lower: lowerIsBetter(name),
      value: (run: ModelRun) => run.scalar[name],
    })),
  ];
  const bests = columns.map((c) =>
    bestOf(
      runs.map((r) => c.value(r)?.mean),
      c.lower,
    ),
  );
  const fitBest = bestOf(
    runs.map((r) => r.fitSeconds),
    true,
  );
  const head = [
    '<th scope="col" class="num">#</th>',
    '<th scope="col">Run <span class="dir">(model: settings)</span></th>',
    ...columns.map((c) => {
      const primary = c.name === primaryMetric ? ' primary' : '';
      const title = c.name === primaryMetric ? ' title="primary metric: runs are sorted by it"' : '';
      return `<th scope="col" class="num${primary}"${title}>${e(c.header)}${direction(c.lower)}</th>`;
    }),
    `<th scope="col" class="num">Fit (s)${direction(true)}</th>`,
  ].join('');
  const rows = runs.map((run, i) => {
    const cells = columns.map((c, j) => summaryCell(c.value(run), bests[j]));
    const fitIsBest = fitBest !== undefined && run.fitSeconds === fitBest;
    const fit = `<td class="num${fitIsBest ? ' best' : ''}">${e(formatSeconds(run.fitSeconds))}${
      fitIsBest ? '<span class="visually-hidden"> (fastest)</span>' : ''
    }</td>`;
    return (
      `<tr><td class="rank">${i + 1}</td><th scope="row" class="run"><span class="run-name">${e(run.label)}</span>` +
      `<span class="run-settings">${e(run.model)}: ${e(formatParams(run.params))}</span></th>` +
      `${cells.join('')}${fit}</tr>`
    );
  });
  const caption =
    `Mean over test users at K = ${e(mainK)} with its ${e(confidenceText(result))} interval below; ` +
    `sorted by ${e(metricAtK(primaryMetric, mainK))}; best value in each column highlighted.`;
  return (
    `<div class="table-wrap"><table class="headline"><caption>${caption}</caption>` +
    `<thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table></div>`
  );
}

export function confidenceText(result: ExperimentResult): string {
  const c = result.protocol.confidence;
  return isFiniteNumber(c) ? `${Number((c * 100).toFixed(2))}% confidence` : 'confidence';
}

/** Paired tests between runs: difference a − b with its interval and p-value. */
export function comparisonsTable(result: ExperimentResult): string {
  if (result.comparisons.length === 0) {
    return '<p class="empty">No paired comparisons were made in this experiment.</p>';
  }
  const rows = result.comparisons.map((c) => {
    const significant = isFiniteNumber(c.pValue) && c.pValue < ALPHA;
    const higher = c.meanDifference > 0 ? c.a : c.b;
    const verdict = significant
      ? `<span class="badge sig">significant</span> ${e(higher)} higher`
      : '<span class="badge ns">not significant</span>';
    return (
      `<tr><th scope="row" class="label">${e(c.a)}</th><td class="label">${e(c.b)}</td>` +
      `<td>${e(metricAtK(c.metric, c.k))}</td>` +
      `<td class="num">${e(formatDifference(c.meanDifference, c.low, c.high))}</td>` +
      `<td class="num">${e(formatPValue(c.pValue))}</td><td>${e(c.test)}</td>` +
      `<td class="num">${e(formatInteger(c.pairs))}</td><td>${verdict}</td></tr>`
    );
  });
  return (
    `<div class="table-wrap"><table class="comparisons"><caption>Differences are A − B over the same ` +
    `users with their ${e(confidenceText(result))} interval; significant when p &lt; ${ALPHA}.</caption>` +
    '<thead><tr><th scope="col">A</th><th scope="col">B</th><th scope="col">Metric</th>' +
    '<th scope="col" class="num">Mean difference (A − B)</th><th scope="col" class="num">p-value</th>' +
    '<th scope="col">Test</th><th scope="col" class="num">Pairs</th><th scope="col">Result</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

/** Best setting found by each search. */
export function searchTable(result: ExperimentResult): string {
  const { primaryMetric, mainK } = result.protocol;
  const rows = result.searches.map((s) => {
    const rungs = new Set(s.trials.map((t) => t.rung)).size;
    const seconds = s.trials.reduce((sum, t) => sum + (isFiniteNumber(t.fitSeconds) ? t.fitSeconds : 0), 0);
    return (
      `<tr><th scope="row" class="label">${e(s.model)}</th><td class="params">${e(formatParams(s.best))}</td>` +
      `<td class="num">${e(formatNumber(s.bestScore))}</td><td class="num">${e(formatInteger(s.trials.length))}</td>` +
      `<td class="num">${e(formatInteger(rungs))}</td><td class="num">${e(formatSeconds(seconds))}</td></tr>`
    );
  });
  return (
    '<div class="table-wrap"><table class="searches"><caption>Best setting of each search, scored by validation ' +
    `${e(metricAtK(primaryMetric, mainK))}.</caption>` +
    '<thead><tr><th scope="col">Model</th><th scope="col">Best settings</th>' +
    `<th scope="col" class="num">Best ${e(metricAtK(primaryMetric, mainK))}</th>` +
    '<th scope="col" class="num">Trials</th><th scope="col" class="num">Rungs</th>' +
    '<th scope="col" class="num">Fit time, all trials (s)</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}
