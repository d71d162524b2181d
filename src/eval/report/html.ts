/**
 * The evaluation report: one self-contained HTML page (inline styles and SVG charts, no scripts,
 * nothing fetched) rendered from an experiment's results.
 */
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { ExperimentResult } from '../experiment-result.js';
import { comparisonSpec, metricsByKSpec, qualityVsTimeSpec, searchSpec } from './chart-specs.js';
import { escapeHtml as e } from './escape.js';
import { formatDate, formatInteger, formatNumber, formatPercent, isFiniteNumber } from './format.js';
import { metricAtK } from './metric-names.js';
import { REPORT_CSS } from './style.js';
import { renderSvg } from './svg.js';
import { comparisonsTable, confidenceText, headlineTable, searchTable } from './tables.js';
import type { TopLevelSpec } from 'vega-lite';

/** Where the metric definitions live, relative to the project root. */
export const METRICS_DOC = 'docs/metrics.md';

/** Blocks scripts and every network fetch even if markup slipped through escaping. */
const CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

async function figure(spec: TopLevelSpec | null, caption: string, label: string): Promise<string> {
  if (spec === null) return '';
  const svg = await renderSvg(spec);
  return (
    `<figure><div class="chart" role="img" aria-label="${e(label)}">${svg}</div>` +
    `<figcaption>${caption}</figcaption></figure>`
  );
}

function facts(items: [string, string][]): string {
  return `<dl class="facts">${items.map(([k, v]) => `<div><dt>${e(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

function headerSection(result: ExperimentResult): string {
  const { data, split, protocol } = result;
  const density =
    isFiniteNumber(data.users) && isFiniteNumber(data.items) && data.users > 0 && data.items > 0
      ? ` (density ${formatPercent(data.interactions / (data.users * data.items))})`
      : '';
  const ks = protocol.ks.map((k) => e(k)).join(', ');
  return (
    `<header class="report-head"><h1>${e(result.name)}</h1>` +
    `<p class="subtitle">Evaluation report · finished ${e(formatDate(result.createdAt))}</p></header>` +
    '<section aria-labelledby="setup"><h2 id="setup">Experiment</h2>' +
    facts([
      ['Data source', e(data.source)],
      [
        'Data',
        `${e(formatInteger(data.users))} users · ${e(formatInteger(data.items))} items · ` +
          `${e(formatInteger(data.interactions))} interactions${e(density)}`,
      ],
      [
        'Split',
        `${e(split.kind)}: ${e(split.description)} · ${e(formatInteger(split.folds))} ` +
          `fold${split.folds === 1 ? '' : 's'} · seed ${e(split.seed)}`,
      ],
      [
        'Protocol',
        `K = ${ks} (main ${e(protocol.mainK)}) · primary metric ${e(metricAtK(protocol.primaryMetric, protocol.mainK))} · ` +
          `relevant when value ≥ ${e(formatNumber(protocol.threshold, Number.isInteger(protocol.threshold) ? 0 : undefined))} · ` +
          `${e(confidenceText(result))} intervals`,
      ],
    ]) +
    '</section>'
  );
}

function howToRead(result: ExperimentResult): string {
  return (
    '<div class="note"><p><strong>How to read this.</strong> Each metric cell shows the mean over test users ' +
    `and, below it, its ${e(confidenceText(result))} interval. Arrows in the column headers say whether ` +
    'higher (↑) or lower (↓) is better; the best value of each column is highlighted. Overlapping intervals ' +
    'do not settle which run is better: the paired comparisons test that on the same users. Definitions of ' +
    `every metric are in <a href="${METRICS_DOC}">${METRICS_DOC}</a>.</p></div>`
  );
}

async function searchesSection(result: ExperimentResult): Promise<string> {
  if (result.searches.length === 0) return '';
  const target = e(metricAtK(result.protocol.primaryMetric, result.protocol.mainK));
  const charts: string[] = [];
  for (const search of result.searches) {
    const fig = await figure(
      searchSpec(result, search),
      `<strong>${e(search.model)}</strong>: validation ${target} of each trial at each rung; a line joins ` +
        'one setting across rungs, the best setting in colour.',
      `Search trials for ${search.model}`,
    );
    if (fig) charts.push(fig);
  }
  return (
    '<section aria-labelledby="searches"><h2 id="searches">Settings searches</h2>' +
    `<p>Successive halving: every setting trains on a small budget, the best move up to larger ones.</p>` +
    `<div class="chart-grid">${charts.join('')}</div>${searchTable(result)}</section>`
  );
}

export async function renderReport(result: ExperimentResult): Promise<string> {
  const { primaryMetric, mainK } = result.protocol;
  const primary = e(metricAtK(primaryMetric, mainK));
  const byK = await figure(
    metricsByKSpec(result),
    'Each ranking metric at every K, one line per run; the shaded band is the confidence interval.',
    'Ranking metrics against K, one line per run',
  );
  const comparison = await figure(
    comparisonSpec(result),
    `${primary} per run: the point is the mean, the bar its confidence interval.`,
    `${metricAtK(primaryMetric, mainK)} per run with confidence intervals`,
  );
  const tradeOff = await figure(
    qualityVsTimeSpec(result),
    `${primary} against the time to fit one fold (log scale): up and to the left is better.`,
    `${metricAtK(primaryMetric, mainK)} against fit time`,
  );
  const body = [
    headerSection(result),
    '<section aria-labelledby="results"><h2 id="results">Results</h2>',
    howToRead(result),
    headlineTable(result),
    '</section>',
    '<section aria-labelledby="charts"><h2 id="charts">Charts</h2>',
    byK || comparison || tradeOff
      ? `${comparison}${byK}${tradeOff}`
      : '<p class="empty">No metrics to chart.</p>',
    '</section>',
    '<section aria-labelledby="comparisons"><h2 id="comparisons">Paired comparisons</h2>',
    comparisonsTable(result),
    '</section>',
    await searchesSection(result),
  ].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="color-scheme" content="light">
<meta name="generator" content="Kindred">
<title>${e(result.name)} · evaluation report</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<main>
${body}
<footer>Kindred evaluation report · rendered from the experiment's results file</footer>
</main>
</body>
</html>
`;
}

/** Renders the report and replaces `file` atomically (a temporary file in the same folder, then rename). */
export async function writeReport(result: ExperimentResult, file: string): Promise<void> {
  writeFileAtomic(file, await renderReport(result));
}
