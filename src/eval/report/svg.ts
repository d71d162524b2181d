/** Server-side rendering of Vega-Lite specifications to standalone SVG markup. */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { vegaTextWidth } from './text-width.js';

type WidthFn = (item: object, text: unknown) => number;
interface TextMetrics {
  width: WidthFn;
}

/** Vega's text measurement hook (not in its type definitions). */
const metrics = (vega as unknown as { textMetrics?: TextMetrics }).textMetrics;

let active = 0;
let saved: WidthFn | undefined;

/** Installs the report's text widths while at least one chart renders, then restores Vega's. */
function withTextWidths(): () => void {
  if (metrics && active++ === 0) {
    saved = metrics.width;
    metrics.width = vegaTextWidth as WidthFn;
  }
  let released = false;
  return () => {
    if (released || !metrics) return;
    released = true;
    if (--active === 0 && saved) metrics.width = saved;
  };
}

/** Elements a chart never needs and that could run code or fetch something if they appeared. */
const FORBIDDEN = /<\s*(script|foreignObject|iframe|object|embed|image|use|a)[\s>/]/i;

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = vl.compile(spec).spec;
  const release = withTextWidths();
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    const svg = await view.toSVG();
    if (FORBIDDEN.test(svg)) throw new Error('chart markup contains an element charts never use');
    return svg;
  } finally {
    view.finalize();
    release();
  }
}
