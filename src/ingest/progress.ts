/**
 * Progress reporting for long jobs: a bar on a terminal, a plain line every few seconds otherwise
 * (logs, CI), or nothing.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressOptions {
  /** Work expected, in `unit`s; 0 or absent when unknown. */
  total?: number;
  /** `bytes` shows sizes (KB, MB); any other word is printed after plain counts. Default `rows`. */
  unit?: string;
  /** Shown before the numbers, e.g. the file being read. */
  label?: string;
  /** Report nothing. */
  silent?: boolean;
  /** Default standard error. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** `auto` draws a bar when the stream is a terminal and prints lines otherwise. */
  mode?: 'auto' | 'bar' | 'lines';
  /** Time between plain lines. Default 2000 ms. */
  intervalMs?: number;
}

export interface Progress {
  /** Sets the amount of work done so far. */
  update(done: number): void;
  increment(delta?: number): void;
  setTotal(total: number): void;
  /** Ends the report; `summary` is printed after the last figures. */
  stop(summary?: string): void;
}

const SILENT: Progress = {
  update() {},
  increment() {},
  setTotal() {},
  stop() {},
};

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function formatter(unit: string): (n: number) => string {
  return unit === 'bytes' ? formatBytes : (n) => `${formatCount(n)} ${unit}`;
}

class LineProgress implements Progress {
  private done = 0;
  private readonly started = Date.now();
  private lastPrint = this.started;
  private readonly format: (n: number) => string;

  constructor(
    private total: number,
    unit: string,
    private readonly label: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {
    this.format = formatter(unit);
  }

  update(done: number): void {
    this.done = done;
    const now = Date.now();
    if (now - this.lastPrint >= this.intervalMs) {
      this.lastPrint = now;
      this.print(now, '');
    }
  }

  increment(delta = 1): void {
    this.update(this.done + delta);
  }

  setTotal(total: number): void {
    this.total = total;
  }

  stop(summary?: string): void {
    this.print(Date.now(), summary ? ` ${summary}` : ' done');
  }

  private print(now: number, suffix: string): void {
    const seconds = Math.max(1e-3, (now - this.started) / 1000);
    const pct = this.total > 0 ? ` (${Math.min(100, (100 * this.done) / this.total).toFixed(0)}%)` : '';
    const of = this.total > 0 ? ` of ${this.format(this.total)}` : '';
    const rate = this.format(this.done / seconds);
    this.stream.write(
      `${this.label}${this.format(this.done)}${of}${pct}, ${rate}/s, ${seconds.toFixed(1)} s${suffix}\n`,
    );
  }
}

class BarProgress implements Progress {
  private readonly bar: SingleBar;
  private done = 0;

  constructor(total: number, unit: string, label: string, stream: NodeJS.WritableStream, forced: boolean) {
    const format = formatter(unit);
    const counts = total > 0 ? '[{bar}] {percentage}% | {value} / {total} | ETA {eta_formatted}' : '{value}';
    this.bar = new SingleBar({
      format: `${label}${counts}{summary}`,
      formatValue: (v, _options, type) => (type === 'value' || type === 'total' ? format(v) : String(v)),
      stream,
      hideCursor: true,
      noTTYOutput: forced,
      fps: 5,
      etaBuffer: 50,
    });
    this.bar.start(total, 0, { summary: '' });
  }

  update(done: number): void {
    this.done = done;
    this.bar.update(done);
  }

  increment(delta = 1): void {
    this.update(this.done + delta);
  }

  setTotal(total: number): void {
    this.bar.setTotal(total);
  }

  stop(summary?: string): void {
    this.bar.update(this.done, { summary: summary ? ` | ${summary}` : '' });
    this.bar.stop();
  }
}

export function createProgress(options: ProgressOptions = {}): Progress {
  if (options.silent) return SILENT;
  const stream = options.stream ?? process.stderr;
  const total = options.total ?? 0;
  const unit = options.unit ?? 'rows';
  const label = options.label ? `${options.label}: ` : '';
  const mode = options.mode ?? 'auto';
  const tty = (stream as { isTTY?: boolean }).isTTY === true;
  if (mode === 'bar' || (mode === 'auto' && tty)) return new BarProgress(total, unit, label, stream, !tty);
  return new LineProgress(total, unit, label, stream, options.intervalMs ?? 2000);
}

/** A reporter that prints nothing. */
export const silentProgress: Progress = SILENT;
