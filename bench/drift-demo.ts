/**
 * Drift demo: a reference of two weeks of synthetic shop traffic, then 26 hours replayed twice
 * into the drift monitor: unshifted (same shop, new draws) and shifted (popularity moved to
 * other items and more concentrated, searches instead of views, click rate halved, served
 * scores lower). Prints both reports and the alerts they raised.
 *
 *   npm run build && node dist/bench/drift-demo.js      (or: npx tsx bench/drift-demo.ts)
 */
import { DriftMonitor, type DriftReport } from '../src/monitoring/drift.js';
import { DEMO_SHIFT, DEMO_SHOP, runDriftDemo } from '../src/monitoring/demo-stream.js';
import type { AlertsView } from '../src/monitoring/alerts.js';

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows
    .map((r, i) => {
      const line = r.map((cell, c) => cell.padEnd(widths[c])).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

function printReport(title: string, report: DriftReport, alerts: AlertsView): void {
  console.log(
    `\n## ${title}: overall ${report.status.toUpperCase()} (${report.events} events in the window)\n`,
  );
  const rows = [['check', 'statistic', 'value', 'warn', 'alert', 'status', 'sample']];
  for (const c of report.checks) {
    rows.push([
      c.name,
      c.statistic,
      c.value.toFixed(3),
      String(c.threshold.warn),
      String(c.threshold.alert),
      c.sufficient ? c.status : `${c.status} (insufficient)`,
      String(c.sample),
    ]);
  }
  console.log(table(rows));
  console.log('');
  for (const c of report.checks) console.log(`  ${c.name}: ${c.detail}`);
  console.log(
    `\nActive alerts: ${alerts.active.length === 0 ? 'none' : alerts.active.map((a) => `${a.name} (${a.status})`).join(', ')}`,
  );
}

const started = performance.now();
const result = runDriftDemo(() => new DriftMonitor());
const seconds = (performance.now() - started) / 1000;
console.log(
  `# Drift demo\n\nReference: ${result.referenceEvents} events over ${DEMO_SHOP.referenceHours / 24} days ` +
    `(${DEMO_SHOP.users} users, ${DEMO_SHOP.items} items, ${DEMO_SHOP.impressionsPerHour} impressions/hour); ` +
    `live window 24 h of 1 h buckets after ${DEMO_SHOP.liveHours} h replayed.\nShift: ${JSON.stringify(DEMO_SHIFT)}`,
);
printReport('Unshifted continuation', result.unshifted.report, result.unshifted.alerts);
printReport('Shifted stream', result.shifted.report, result.shifted.alerts);
console.log(`\n(${seconds.toFixed(1)} s, generation and replay included)`);
