/** Number, time and parameter formatting for the evaluation report (plain text; escape before use). */
import type { Params } from '../../models/params.js';
import type { MetricSummary } from '../experiment-result.js';

/** Shown where a value is missing or not a finite number (results files store NaN as null). */
export const MISSING = '–';

export function isFiniteNumber(x: unknown): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Decimals that show a value of this size with about four significant digits. */
export function decimalsFor(x: number): number {
  const a = Math.abs(x);
  if (a >= 1000) return 1;
  if (a >= 100) return 2;
  if (a >= 10) return 3;
  if (a >= 0.01 || a === 0) return 4;
  return Math.min(8, Math.ceil(-Math.log10(a)) + 2);
}

export function formatNumber(x: unknown, decimals?: number): string {
  if (!isFiniteNumber(x)) return MISSING;
  const d = decimals ?? decimalsFor(x);
  return x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
}

/** Mean and interval as separate strings, e.g. `0.4651` and `[0.449, 0.481]`; no interval when it is empty. */
export function formatSummaryParts(s: MetricSummary | undefined): { mean: string; ci: string | null } {
  if (!s || !isFiniteNumber(s.mean)) return { mean: MISSING, ci: null };
  const d = decimalsFor(s.mean);
  const mean = formatNumber(s.mean, d);
  if (!isFiniteNumber(s.low) || !isFiniteNumber(s.high) || (s.low === s.mean && s.high === s.mean)) {
    return { mean, ci: null };
  }
  const ciDecimals = Math.max(1, d - 1);
  return { mean, ci: `[${formatNumber(s.low, ciDecimals)}, ${formatNumber(s.high, ciDecimals)}]` };
}

/** `0.4651 [0.449, 0.481]` */
export function formatSummary(s: MetricSummary | undefined): string {
  const { mean, ci } = formatSummaryParts(s);
  return ci === null ? mean : `${mean} ${ci}`;
}

/** A signed difference with its interval: `+0.0123 [0.004, 0.021]`. */
export function formatDifference(mean: number, low: number, high: number): string {
  if (!isFiniteNumber(mean)) return MISSING;
  const d = decimalsFor(mean === 0 ? Math.max(Math.abs(low), Math.abs(high), 0.01) : mean);
  const sign = mean > 0 ? '+' : mean < 0 ? '−' : '';
  const head = `${sign}${formatNumber(Math.abs(mean), d)}`;
  if (!isFiniteNumber(low) || !isFiniteNumber(high)) return head;
  const ciDecimals = Math.max(1, d - 1);
  const signed = (x: number): string => (x < 0 ? '−' : '') + formatNumber(Math.abs(x), ciDecimals);
  return `${head} [${signed(low)}, ${signed(high)}]`;
}

export function formatInteger(x: unknown): string {
  return isFiniteNumber(x) ? Math.round(x).toLocaleString('en-US') : MISSING;
}

/** Seconds with precision that suits their size: `0.042`, `3.14`, `42.5`, `1,234`. */
export function formatSeconds(x: unknown): string {
  if (!isFiniteNumber(x)) return MISSING;
  const a = Math.abs(x);
  const d = a < 1 ? 3 : a < 10 ? 2 : a < 100 ? 1 : 0;
  return formatNumber(x, d);
}

export function formatPValue(p: unknown): string {
  if (!isFiniteNumber(p)) return MISSING;
  if (p < 0.0001) return '< 0.0001';
  return p.toFixed(4);
}

/** `0.95` → `95%`. */
export function formatPercent(x: unknown): string {
  if (!isFiniteNumber(x)) return MISSING;
  return `${Number((x * 100).toFixed(2))}%`;
}

/** Compact settings: `factors=64, reg=0.01`; `defaults` when there are none. */
export function formatParams(params: Params | undefined): string {
  const entries = Object.entries(params ?? {});
  if (entries.length === 0) return 'defaults';
  return entries.map(([k, v]) => `${k}=${String(v)}`).join(', ');
}

/** `2025-03-01 14:05 UTC` from an ISO time; the input unchanged when it does not parse. */
export function formatDate(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso);
  return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A stable key for a parameter setting (key order does not matter). */
export function paramsKey(params: Params | undefined): string {
  const p = params ?? {};
  return JSON.stringify(
    Object.keys(p)
      .sort()
      .map((k) => [k, p[k]]),
  );
}
