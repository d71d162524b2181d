/**
 * Text width for chart layout without a canvas. Vega's own fallback assumes every character is
 * 0.8 em wide, which leaves wide gaps around labels and legends; this uses the advance widths of
 * Helvetica/Arial (the metrics of the sans-serif fonts the report asks for) instead.
 */

// Advance widths in 1/1000 em for the printable ASCII characters 32..126.
// prettier-ignore
const ASCII_WIDTHS = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
  556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
  667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
  556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];

/** Width for characters outside the table (wide enough for most Latin, Greek and symbols). */
const OTHER_WIDTH = 650;
/** Headroom for fonts a little wider than Helvetica (DejaVu Sans, Segoe UI). */
const SLACK = 1.08;
const BOLD = 1.07;

export function textWidth(text: string, fontSize: number, bold = false): number {
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    units += c >= 32 && c <= 126 ? ASCII_WIDTHS[c - 32] : OTHER_WIDTH;
  }
  return (units / 1000) * fontSize * SLACK * (bold ? BOLD : 1);
}

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
  text?: unknown;
}

/** The shape of Vega's `textMetrics.width` hook. */
export function vegaTextWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  const weight = item.fontWeight;
  const bold = weight === 'bold' || (typeof weight === 'number' && weight >= 600);
  const s = text == null ? '' : String(text).trim();
  const w = textWidth(s, size, bold);
  // Text longer than its limit is drawn truncated to it.
  const limit = item.limit != null ? +item.limit || 0 : 0;
  return limit > 0 ? Math.min(w, limit) : w;
}
