/**
 * Protocol B3 of ../shared/BENCHMARKS.md, serving side: on the synthetic B3 data (200,000 users
 * x 50,000 items x 20,000,000 distinct pairs), with a 64-factor model,
 *
 *   1. batch top-10 for 10,000 users with their seen items filtered, on both cores;
 *   2. one user's top-10 over the 50,000 items (mean and p99 latency);
 *   3. item-kNN build time on the same data;
 *   4. peak memory (resident set of the whole process, workers included).
 *
 *   node dist/bench/b3-serving.js [--users 10000] [--queries 2000] [--threads N]
 *       [--model als|random] [--als-iterations 3] [--no-knn] [--scale 1]
 *
 * The model is ALS when it is registered (trained here with few iterations: serving cost does
 * not depend on how well it fits), otherwise random factors of the same shape. `--scale 0.1`
 * shrinks users and pairs for a quick run. Baselines measured in the same run (one thread, the
 * model's own JavaScript scoring) make the figures comparable when the machine is busy.
 */
import { availableParallelism } from 'node:os';
import { csrFromCoo } from '../src/data/csr-build.js';
import { IdMap } from '../src/data/id-map.js';
import type { InteractionData } from '../src/data/interactions.js';
import { B3_PRESET, generateInteractions } from '../src/ingest/synthetic.js';
import { topK } from '../src/kernels/topk.js';
import type { Artifact, SavableRecommender } from '../src/models/artifact.js';
import { BatchRecommender } from '../src/models/batch.js';
import { ItemKnnModel } from '../src/models/knn/item-knn.js';
import type { ModelInfo, ScoringContext, TopK } from '../src/models/model.js';
import { trainingContext } from '../src/models/recommend.js';
import { createModel, modelNames } from '../src/models/registry.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const SCALE = Number(arg('--scale', '1'));
const BATCH_USERS = Number(arg('--users', '10000'));
const QUERIES = Number(arg('--queries', '2000'));
const THREADS = Number(arg('--threads', String(availableParallelism())));
const MODEL = arg('--model', modelNames().includes('als') ? 'als' : 'random');
const ALS_ITERATIONS = Number(arg('--als-iterations', '3'));
const FACTORS = 64;

/** Highest resident set seen by the sampler since the last `phasePeak()` (whole process). */
let peakRss = 0;
function sampleMemory(): void {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}
/** The peak since the previous call (sampled every 50 ms while the main thread is free). */
function phasePeak(): number {
  sampleMemory();
  const p = peakRss;
  peakRss = 0;
  return p;
}
const memoryTimer = setInterval(sampleMemory, 50);

/** Wall and CPU time (all threads) of a phase. */
function clock(): () => { wall: number; cpu: number } {
  const t = performance.now();
  const c = process.cpuUsage();
  return () => {
    const d = process.cpuUsage(c);
    return { wall: performance.now() - t, cpu: (d.user + d.system) / 1000 };
  };
}

const mb = (bytes: number): string => `${Math.round(bytes / 2 ** 20)} MB`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Random factors of the model's shape: score(i) = p_u · q_i. */
class RandomFactors implements SavableRecommender {
  readonly info: ModelInfo;
  readonly userFactors: Float32Array;
  readonly itemFactors: Float32Array;

  constructor(
    readonly itemIds: readonly string[],
    users: number,
    seed: number,
  ) {
    let s = seed >>> 0;
    const rnd = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5;
    this.userFactors = Float32Array.from({ length: users * FACTORS }, rnd);
    this.itemFactors = Float32Array.from({ length: itemIds.length * FACTORS }, rnd);
    this.info = {
      name: 'random-factors',
      params: { factors: FACTORS },
      trainedAt: Date.now(),
      users,
      items: itemIds.length,
      interactions: 0,
      fitSeconds: 0,
    };
  }

  score(ctx: ScoringContext, out: Float32Array): void {
    const u = ctx.userIndex * FACTORS;
    const p = this.userFactors;
    const q = this.itemFactors;
    for (let i = 0, o = 0; i < this.itemIds.length; i++, o += FACTORS) {
      let x = 0;
      for (let f = 0; f < FACTORS; f++) x += p[u + f] * q[o + f];
      out[i] = x;
    }
  }

  similarItems(): TopK | null {
    return null;
  }

  toArtifact(): Artifact {
    return {
      header: { info: this.info, itemIds: this.itemIds },
      arrays: { userFactors: this.userFactors, itemFactors: this.itemFactors },
    };
  }
}

/** The B3 interactions as InteractionData (the matrix only: no per-event columns are kept). */
function b3Data(): { data: InteractionData; draws: number } {
  const users = Math.max(1, Math.round(B3_PRESET.users * SCALE));
  const interactions = Math.round(B3_PRESET.interactions * SCALE);
  const set = generateInteractions({ ...B3_PRESET, users, interactions });
  const matrix = csrFromCoo(set.users, set.items, set.user, set.item, set.value, set.length);
  const ids = (n: number) => new IdMap(Array.from({ length: n }, (_, i) => String(i + 1)));
  const empty = {
    user: new Int32Array(0),
    item: new Int32Array(0),
    strength: new Float32Array(0),
    time: new Float64Array(0),
    length: 0,
  };
  const data: InteractionData = {
    users: ids(set.users),
    items: ids(set.items),
    matrix,
    events: empty,
    itemAvailable: new Uint8Array(set.items).fill(1),
    now: Date.now(),
    lastEventTime: null,
  };
  return { data, draws: set.draws };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function sampleUsers(n: number, users: number, seed: number): Int32Array {
  let s = seed;
  const out = new Int32Array(Math.min(n, users));
  for (let j = 0; j < out.length; j++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[j] = s % users;
  }
  return out;
}

const timing = (c: { wall: number; cpu: number }): string => `${sec(c.wall)} (CPU ${sec(c.cpu)})`;

async function main(): Promise<void> {
  const rows: [string, string, string][] = [];
  const add = (figure: string, value: string, peer: string) => {
    rows.push([figure, value, peer]);
    console.log(`  ${figure}: ${value}`);
  };
  console.log(`B3 serving, ${THREADS} threads, model ${MODEL}${SCALE !== 1 ? `, scale ${SCALE}` : ''}`);

  let done = clock();
  const { data, draws } = b3Data();
  const nnz = data.matrix.indptr[data.users.size];
  add(
    'synthetic data',
    `${data.users.size.toLocaleString('en-US')} x ${data.items.size.toLocaleString('en-US')}, ` +
      `${nnz.toLocaleString('en-US')} pairs (${draws.toLocaleString('en-US')} draws) in ${timing(done())}`,
    '-',
  );
  const dataRss = phasePeak();

  done = clock();
  const model: SavableRecommender =
    MODEL === 'als'
      ? await createModel('als', { factors: FACTORS, iterations: ALS_ITERATIONS }).fit(data)
      : new RandomFactors(data.items.ids, data.users.size, 1);
  const modelName =
    MODEL === 'als' ? `ALS, ${FACTORS} factors, ${ALS_ITERATIONS} iterations` : `random, ${FACTORS} factors`;
  add(`model (${modelName})`, `built in ${timing(done())}`, '-');
  const modelRss = phasePeak();

  // 1. Batch top-10 for 10,000 users, seen items filtered.
  const users = sampleUsers(BATCH_USERS, data.users.size, 12345);
  done = clock();
  const pool = await BatchRecommender.start(model, data, { threads: THREADS });
  add('worker pool start (model shared, workers ready)', timing(done()), '-');
  const runs: { wall: number; cpu: number }[] = [];
  let result = await pool.recommend(users, 10);
  for (let rep = 0; rep < 5; rep++) {
    done = clock();
    result = await pool.recommend(users, 10);
    runs.push(done());
  }
  runs.sort((a, b) => a.wall - b.wall);
  add(
    `batch top-10, ${users.length.toLocaleString('en-US')} users, seen filtered ` +
      `(${pool.kernel} kernel, ${THREADS} threads; best / median of ${runs.length})`,
    `${timing(runs[0])} / ${sec(runs[runs.length >> 1].wall)}`,
    '1.79 s',
  );
  const onePool = await BatchRecommender.start(model, data, { threads: 1 });
  await onePool.recommend(users.subarray(0, 100), 10);
  done = clock();
  await onePool.recommend(users, 10);
  add('  same, 1 thread (baseline in the same run)', timing(done()), '-');
  await onePool.close();

  // The model's own scoring on the calling thread, on a sample, as a second baseline.
  const sample = users.subarray(0, Math.min(200, users.length));
  const scratch = new Float32Array(data.items.size);
  const mask = new Uint8Array(data.items.size);
  done = clock();
  let agree = 0;
  for (let j = 0; j < sample.length; j++) {
    const ctx = trainingContext(data, sample[j]);
    model.score(ctx, scratch);
    for (const i of ctx.history) mask[i] = 1;
    const top = topK(scratch, 10, mask);
    for (const i of ctx.history) mask[i] = 0;
    const batch = result.indices.subarray(j * 10, j * 10 + 10);
    if (Array.from(top.indices).join() === Array.from(batch).join()) agree++;
  }
  const js = done();
  add(
    `  model's own score() + topK, 1 thread (${sample.length} users, scaled to ${users.length.toLocaleString('en-US')})`,
    sec((js.wall * users.length) / sample.length),
    '-',
  );
  add('  batch lists equal to the single-threaded ones', `${agree} / ${sample.length} users`, '-');

  // 2. One user's top-10 over all items.
  const queries = sampleUsers(QUERIES, data.users.size, 777);
  for (let q = 0; q < Math.min(200, queries.length); q++) pool.recommendOne(queries[q], 10);
  const lat: number[] = [];
  const cpu: number[] = [];
  for (let q = 0; q < queries.length; q++) {
    const c = process.cpuUsage();
    const s = performance.now();
    pool.recommendOne(queries[q], 10);
    lat.push(performance.now() - s);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  lat.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  add(
    `one user's top-10 over ${data.items.size.toLocaleString('en-US')} items (${pool.kernel}; mean / p50 / p99 of ${lat.length})`,
    `${mean(lat).toFixed(3)} / ${percentile(lat, 0.5).toFixed(3)} / ${percentile(lat, 0.99).toFixed(3)} ms`,
    '1.18 / - / 1.65 ms',
  );
  add(
    '  same, CPU time per query (time the thread actually ran; mean / p50 / p99)',
    `${mean(cpu).toFixed(3)} / ${percentile(cpu, 0.5).toFixed(3)} / ${percentile(cpu, 0.99).toFixed(3)} ms`,
    '-',
  );
  await pool.close();
  const servingRss = phasePeak();

  // 3. Item-kNN build time.
  let knnRss = 0;
  if (!process.argv.includes('--no-knn')) {
    done = clock();
    const knn = await ItemKnnModel.fitAsync(data, { k: 100, threads: THREADS });
    add(
      `item-kNN build (cosine, k=100, ${THREADS} threads)`,
      `${timing(done())}, ${knn.neighbourLists.indices.length.toLocaleString('en-US')} neighbours`,
      '-',
    );
    knnRss = phasePeak();
  }

  clearInterval(memoryTimer);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  add(
    'peak memory, whole run (process resident set)',
    `${mb(maxRss)} (sampled: after data ${mb(dataRss)}, model fit ${mb(modelRss)}, ` +
      `serving ${mb(servingRss)}${knnRss ? `, kNN build ${mb(knnRss)}` : ''})`,
    '495 MB (ALS fit)',
  );

  console.log('\nB3 serving figures (machine shared with other work: wall-clock times are noisy)\n');
  console.log('| figure | Kindred | implicit 0.7.3 |\n|---|---|---|');
  for (const [figure, value, peer] of rows) console.log(`| ${figure} | ${value} | ${peer} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
