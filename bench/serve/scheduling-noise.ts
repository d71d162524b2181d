/**
 * How much the machine itself interrupts busy threads: one spinning thread per core reads the
 * clock in a tight loop and counts the gaps over `gapMs` (time the thread was not running). On
 * a quiet machine there are none; on a shared virtual machine gaps of tens of milliseconds show
 * up, and no server can answer within less than such a gap while one lasts.
 */
import { Worker } from 'node:worker_threads';

export interface SchedulingNoise {
  threads: number;
  seconds: number;
  gapMs: number;
  /** Gaps over gapMs, over all threads. */
  gaps: number;
  /** The longest gap seen (ms). */
  longest: number;
}

const SPIN = `
const { parentPort, workerData } = require('node:worker_threads');
const end = performance.now() + workerData.seconds * 1000;
let last = performance.now();
let gaps = 0;
let longest = 0;
for (;;) {
  const now = performance.now();
  const gap = now - last;
  if (gap > workerData.gapMs) gaps++;
  if (gap > longest) longest = gap;
  last = now;
  if (now >= end) break;
}
parentPort.postMessage({ gaps, longest });
`;

export async function measureSchedulingNoise(
  threads: number,
  seconds: number,
  gapMs = 5,
): Promise<SchedulingNoise> {
  const results = await Promise.all(
    Array.from(
      { length: threads },
      () =>
        new Promise<{ gaps: number; longest: number }>((resolve, reject) => {
          const w = new Worker(SPIN, { eval: true, workerData: { seconds, gapMs } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    ),
  );
  return {
    threads,
    seconds,
    gapMs,
    gaps: results.reduce((s, r) => s + r.gaps, 0),
    longest: Math.max(...results.map((r) => r.longest)),
  };
}
