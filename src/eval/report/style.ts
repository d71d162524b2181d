/** The report's stylesheet, inlined into the page. */
export const REPORT_CSS = `
:root {
  --text: #1f2630;
  --muted: #5b6573;
  --line: #e1e5ea;
  --bg: #f5f6f8;
  --card: #ffffff;
  --accent: #0b5cad;
  --best-bg: #dff0e4;
  --best-text: #0d4a22;
  --sig-bg: #e6effa;
  --sig-text: #0b3f75;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0;
  background: var(--bg);
  color: var(--text);
  font: 15px/1.5 -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif;
}
main { max-width: 1320px; margin: 0 auto; padding: 28px 20px 48px; }
header.report-head { margin-bottom: 20px; }
h1 { font-size: 1.65rem; line-height: 1.25; margin: 0 0 4px; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 0 0 12px; }
h3 { font-size: 1rem; margin: 0 0 8px; overflow-wrap: anywhere; }
p { margin: 0 0 10px; }
a { color: var(--accent); }
.subtitle { color: var(--muted); margin: 0; }
section {
  background: var(--card);
  border: 1px solid var(--line);
  border-radius: 8px;
  padding: 18px 18px;
  margin: 0 0 20px;
}
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(250px, 1fr)); gap: 12px 24px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { font-size: 0.75rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); font-weight: 600; }
.facts dd { margin: 2px 0 0; overflow-wrap: anywhere; }
.note { background: #f3f6fa; border-left: 4px solid var(--accent); padding: 10px 14px; margin-bottom: 14px; border-radius: 4px; color: #2b3440; font-size: 0.92rem; }
.note p:last-child { margin-bottom: 0; }
.table-wrap { position: relative; overflow-x: auto; margin: 0 -4px; padding: 0 4px; }
table { border-collapse: collapse; font-size: 0.86rem; width: 100%; }
caption { text-align: left; color: var(--muted); font-size: 0.85rem; padding-bottom: 6px; caption-side: top; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; text-align: left; }
thead th { background: #f3f5f8; font-weight: 600; border-bottom: 2px solid #cfd6de; white-space: nowrap; vertical-align: bottom; }
tbody tr:nth-child(even), tbody tr:nth-child(even) th.run { background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.label, td.label { font-weight: 600; overflow-wrap: anywhere; min-width: 7em; max-width: 16em; }
td.params { color: var(--muted); font-size: 0.8rem; min-width: 10em; max-width: 18em; overflow-wrap: anywhere; }
th.run { position: sticky; left: 0; z-index: 1; background: var(--card); box-shadow: inset -1px 0 0 var(--line); min-width: 9em; max-width: 17em; overflow-wrap: anywhere; }
.run-name { display: block; font-weight: 600; }
.run-settings { display: block; font-weight: 400; color: var(--muted); font-size: 0.78rem; }
td.rank { color: var(--muted); text-align: right; width: 2em; padding-right: 2px; }
.ci { display: block; color: var(--muted); font-size: 0.78rem; }
td.best { background: var(--best-bg); color: var(--best-text); font-weight: 700; }
td.best .ci { color: var(--best-text); font-weight: 400; }
th .dir { color: var(--muted); font-weight: 400; }
th.primary { box-shadow: inset 0 -3px 0 var(--accent); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.78rem; font-weight: 600; white-space: nowrap; }
.badge.sig { background: var(--sig-bg); color: var(--sig-text); }
.badge.ns { background: #eef0f3; color: var(--muted); font-weight: 400; }
figure { margin: 0 0 18px; min-width: 0; }
figure:last-child { margin-bottom: 0; }
figcaption { color: var(--muted); font-size: 0.88rem; margin-top: 6px; max-width: 70em; }
.chart { overflow-x: auto; }
.chart svg { display: block; max-width: 100%; height: auto; }
.chart svg text { font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; }
.chart-grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(370px, 1fr)); gap: 16px 28px; align-items: start; margin-bottom: 18px; }
.empty { color: var(--muted); font-style: italic; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
footer { color: var(--muted); font-size: 0.8rem; text-align: center; margin-top: 8px; }
@media (max-width: 720px) {
  main { padding: 16px 10px 32px; }
  section { padding: 14px 12px; }
  .chart-grid { grid-template-columns: 1fr; }
}
@media print {
  body { background: white; }
  section { border: none; padding: 0; break-inside: avoid; }
}
`;
