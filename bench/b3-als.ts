/**
 * Protocol B3 of ../shared/BENCHMARKS.md, ALS part: 200,000 users × 50,000 items × exactly
 * 20,000,000 distinct (user, item) pairs of value 1.0; the item of each draw has popularity
 * rank r with probability ∝ r^-0.8 (ranks randomly permuted over item ids), the user is
 * uniform; duplicates are removed and topped up. Generated in memory, deterministic.
 *
 *   node --expose-gc dist/bench/b3-als.js [--threads 2] [--iterations 3] [--factors 64]
 *        [--kernel wasm|js] [--solver cg|exact] [--users N --items N --pairs N] [--serve]
 *
 * EASE at scale on the same kind of data (50,000 users × N items × 2,500,000 pairs):
 *
 *   node --expose-gc dist/bench/b3-als.js --ease-items 10000 [--precision auto|float64|float32]
 *
 * Reports seconds per ALS iteration, the peak RSS sampled during the fit (which holds the
 * input matrix), and with --serve the top-10 serving figures (batch of 10,000 users with
 * their seen items filtered, and single-user latency).
 */
import { topK } from '../src/kernels/topk.js';
import { Rng } from '../src/ingest/prng.js';
import type { CsrMatrix } from '../src/data/csr.js';
import { csrFromCoo } from '../src/data/csr-build.js';
import { interactionsFromIndices } from '../src/data/interactions.js';
import { IdMap } from '../src/data/id-map.js';
import { AlsModel } from '../src/models/als/als.js';
import { EaseModel } from '../src/models/ease/ease.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const USERS = Number(arg('--users', '200000'));
const ITEMS = Number(arg('--items', '50000'));
const PAIRS = Number(arg('--pairs', '20000000'));
const EXPONENT = 0.8;

/** The B3 matrix: exactly `pairs` distinct (user, item) pairs of value 1. */
function b3Matrix(users: number, items: number, pairs: number, seed = 3): CsrMatrix {
  const rng = new Rng(seed);
  const cdf = new Float64Array(items);
  let total = 0;
  for (let r = 0; r < items; r++) {
    total += Math.pow(r + 1, -EXPONENT);
    cdf[r] = total;
  }
  const itemOfRank = new Int32Array(items);
  for (let i = 0; i < items; i++) itemOfRank[i] = i;
  rng.shuffle(itemOfRank);
  const drawItem = (): number => {
    const t = rng.next() * total;
    let lo = 0;
    let hi = items - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > t) hi = mid;
      else lo = mid + 1;
    }
    return itemOfRank[lo];
  };
  // Rounds: keep the distinct pairs so far, draw the shortfall anew, merge duplicates.
  let m: CsrMatrix | null = null;
  for (;;) {
    const have = m ? m.indptr[m.rows] : 0;
    const need = pairs - have;
    if (need === 0 && m) break;
    const rows = new Int32Array(have + need);
    const cols = new Int32Array(have + need);
    if (m) {
      for (let u = 0; u < m.rows; u++) {
        for (let p = m.indptr[u]; p < m.indptr[u + 1]; p++) rows[p] = u;
      }
      cols.set(m.indices);
    }
    for (let e = have; e < have + need; e++) {
      rows[e] = rng.int(users);
      cols[e] = drawItem();
    }
    m = csrFromCoo(users, items, rows, cols, new Float32Array(have + need).fill(1));
  }
  m.data.fill(1);
  return m;
}

function stats(m: CsrMatrix): string {
  const deg = new Int32Array(m.cols);
  for (let p = 0; p < m.indptr[m.rows]; p++) deg[m.indices[p]]++;
  const sorted = Int32Array.from(deg).sort();
  let top = 0;
  const onePct = Math.ceil(m.cols / 100);
  for (let i = m.cols - onePct; i < m.cols; i++) top += sorted[i];
  let ud = [Infinity, 0];
  for (let u = 0; u < m.rows; u++) {
    const d = m.indptr[u + 1] - m.indptr[u];
    ud = [Math.min(ud[0], d), Math.max(ud[1], d)];
  }
  return (
    `item degree max ${sorted[m.cols - 1]}, median ${sorted[m.cols >> 1]}, top 1% hold ` +
    `${((100 * top) / m.indptr[m.rows]).toFixed(1)}%; user degree ${ud[0]}..${ud[1]}`
  );
}

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;

async function easeAtScale(items: number): Promise<void> {
  const users = 50_000;
  const matrix = b3Matrix(users, items, 2_500_000, 5);
  console.log(`generated ${users} x ${items}, ${matrix.indptr[matrix.rows]} pairs; ${stats(matrix)}`);
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const t0 = performance.now();
  const data = interactionsFromIndices({
    users: new IdMap(Array.from({ length: users }, (_, u) => `u${u}`)),
    items: new IdMap(Array.from({ length: items }, (_, i) => `i${i}`)),
    events: {
      user: new Int32Array(0),
      item: new Int32Array(0),
      strength: new Float32Array(0),
      time: new Float64Array(0),
      length: 0,
    },
  });
  const model = await EaseModel.fitAsync(
    { ...data, matrix },
    { lambda: 400, precision: arg('--precision', 'auto'), kernel: arg('--kernel', 'auto') },
  );
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  console.log(
    `EASE ${items} items (${model.info.params.precision} precision, kernel ${model.info.params.kernel}): ` +
      `fit ${seconds.toFixed(1)} s; RSS before ${mb(rssBefore)}, peak during fit ${mb(peak)}`,
  );
}

async function main(): Promise<void> {
  const easeItems = Number(arg('--ease-items', '0'));
  if (easeItems > 0) return easeAtScale(easeItems);
  const threads = Number(arg('--threads', '2'));
  const iterations = Number(arg('--iterations', '3'));
  const factors = Number(arg('--factors', '64'));
  const kernel = arg('--kernel', 'wasm');
  const solver = arg('--solver', 'cg');
  let t0 = performance.now();
  const matrix = b3Matrix(USERS, ITEMS, PAIRS);
  console.log(
    `generated ${USERS} x ${ITEMS}, ${matrix.indptr[matrix.rows]} pairs in ` +
      `${((performance.now() - t0) / 1000).toFixed(1)} s; ${stats(matrix)}`,
  );
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const users = Array.from({ length: USERS }, (_, u) => `u${u}`);
  const items = Array.from({ length: ITEMS }, (_, i) => `i${i}`);
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const perIteration: number[] = [];
  const cpuPerIteration: number[] = [];
  let cpuMark = process.cpuUsage();
  t0 = performance.now();
  const model = await AlsModel.fitMatrix(
    matrix,
    { users, items },
    { factors, iterations, threads, kernel, solver, alpha: 1, confidence: 'identity', regularization: 0.05 },
    {
      onIteration: (it, s) => {
        const c = process.cpuUsage(cpuMark);
        cpuMark = process.cpuUsage();
        const cpu = (c.user + c.system) / 1e6;
        perIteration.push(s);
        cpuPerIteration.push(cpu);
        peak = Math.max(peak, process.memoryUsage.rss());
        console.log(`  iteration ${it + 1}: ${s.toFixed(2)} s wall, ${cpu.toFixed(2)} CPU-s (all threads)`);
      },
    },
  );
  const fitSeconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  const avg = (a: number[]): number => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const mean = avg(perIteration);
  const cpuMean = avg(cpuPerIteration);
  // On a machine shared with other work the wall clock overstates the cost; CPU-seconds per
  // iteration divided by the thread count is what an idle machine would show.
  console.log(
    `ALS ${factors} factors, ${solver}, kernel ${kernel}, ${threads} thread(s): ` +
      `${mean.toFixed(2)} s per iteration wall (min ${Math.min(...perIteration).toFixed(2)}), ` +
      `${cpuMean.toFixed(2)} CPU-s per iteration = ${(cpuMean / threads).toFixed(2)} s per thread; ` +
      `fit ${fitSeconds.toFixed(1)} s incl. set-up; RSS before fit ${mb(rssBefore)}, peak during fit ${mb(peak)}`,
  );

  if (process.argv.includes('--serve')) {
    const scores = new Float32Array(ITEMS);
    const exclude = new Uint8Array(ITEMS);
    const { indptr, indices, data } = matrix;
    const serveOne = (u: number): void => {
      const history = indices.subarray(indptr[u], indptr[u + 1]);
      model.score({ userIndex: u, history, historyWeights: data.subarray(indptr[u], indptr[u + 1]) }, scores);
      for (let p = 0; p < history.length; p++) exclude[history[p]] = 1;
      topK(scores, 10, exclude);
      for (let p = 0; p < history.length; p++) exclude[history[p]] = 0;
    };
    t0 = performance.now();
    for (let u = 0; u < 10_000; u++) serveOne(u);
    const batch = (performance.now() - t0) / 1000;
    const lat: number[] = [];
    for (let u = 10_000; u < 11_000; u++) {
      const s = performance.now();
      serveOne(u);
      lat.push(performance.now() - s);
    }
    lat.sort((a, b) => a - b);
    const meanLat = lat.reduce((a, b) => a + b, 0) / lat.length;
    console.log(
      `serving: batch top-10 for 10,000 users ${batch.toFixed(2)} s (1 thread); one user ` +
        `${meanLat.toFixed(2)} ms mean, ${lat[Math.floor(lat.length * 0.99)].toFixed(2)} ms p99`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
