/**
 * Serving benchmark of the full pipeline: a synthetic shop of 100,000 users × 50,000 items with
 * latent tastes (about 4 million interactions, typed events, categories, prices, stock) is
 * bulk-imported into a fresh SQLite data dir; popularity, trending, item-kNN and 64-factor ALS
 * are trained; the server runs in its own process (the personal model retrieves through the HNSW
 * index from 20,000 items on) and GET /recommend/{user}?placement=home&k=10 is measured with an
 * open-loop generator:
 *
 *   1. p50/p90/p99/max at 1,000 requests/s (target: p99 ≤ 10 ms);
 *   2. the most requests/s with p99 under 20 ms: the rate stepped up from there until p99 reaches
 *      20 ms, or down when 1,000 requests/s already miss it (a run gives up once an answer takes
 *      over --give-up-ms, so an overloaded rate does not wait for its whole backlog);
 *   3. the per-stage timing of debug requests (the response's trace);
 *   4. recall@10 of the server's ANN index against exact search over sampled users (≥ 0.95);
 *   5. latency while the personal model is hot-swapped under load (--swap-rate, 0 to skip);
 *   6. peak resident memory of the server (primary and workers);
 *   7. CPU per request at 1,000 requests/s, of the server (every process and thread) and of the
 *      load generator: steadier than the latencies on a shared machine; with the server's garbage
 *      collections and the time its handler took over the same run (both from its /metrics), which
 *      tells time spent handling from time spent before the handler saw a request;
 *   8. the machine's scheduling noise: gaps seen by one busy thread per core with the server idle;
 *   9. the machine's floor: the same load against a bare node:http server with as many workers,
 *      answering the same bytes without any work (serve/floor-server.ts; --no-floor skips it).
 *
 *   npm run bench:serve -- [--users 100000] [--items 50000] [--interactions 4000000]
 *       [--seconds 20] [--step-seconds 10] [--rates 1100,1200,1300,1400,1500,1750,2000,2500,3000]
 *       [--rates-down 900,800,700,600,500,300,200,100] [--give-up-ms 2000] [--repeat 2]
 *       [--unknown 0.05] [--recall-queries 2000] [--port 18090]
 *       [--data-dir DIR] [--keep] [--cpu-prof DIR] [--models popularity,trending,item-knn,als]
 *       [--workers auto|N] [--swap-rate 300] [--no-floor] [--node-flags '--max-semi-space-size=32']
 *
 * Load starts once every worker listens and holds the histories in memory (a steady state);
 * requests go out over a lean keep-alive client (serve/keep-alive-client.ts) so that the
 * generator, on the same machine, takes little CPU from the server. The generator's own pauses
 * count as latency too, so it allocates next to nothing per answer and runs without V8's memory
 * reducer (`npm run bench:serve` passes --no-memory-reducer), whose full collections of an idle
 * heap would otherwise land every few seconds, and collects its garbage before each run
 * (--expose-gc); its own collections are reported with each run.
 *
 * With --data-dir a dir this benchmark prepared before (shop imported, models trained) is reused,
 * with the lists served by earlier runs cleared;
 * otherwise the shop is built in a fresh dir under the system temp dir, removed at the end
 * unless --keep. --cpu-prof writes a V8 CPU profile of the server process into DIR.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { ArtifactRepository } from '../src/models/artifact-repo.js';
import { workerCount } from '../src/cli/serve.js';
import { ANN_SIZING } from '../src/pipeline/placements.js';
import { sourceLimit } from '../src/pipeline/pipeline.js';
import { trainModels } from '../src/models/training.js';
import { SqliteStore, servedLogPath } from '../src/store/sqlite/sqlite-store.js';
import { measureAnnRecall, ANN_EF_SEARCH, type AnnRecall } from './serve/ann-recall.js';
import { processTreeCpuSeconds, processTreeMemory } from './serve/process-memory.js';
import { swapUnderLoad } from './serve/swap-under-load.js';
import { NO_GC, describeGc, readGcTotals } from './serve/gc-stats.js';
import { describeHandlerTime, readHandlerBuckets } from './serve/handler-time.js';
import { measureSchedulingNoise } from './serve/scheduling-noise.js';
import { buildShop } from './serve/shop.js';
import { runBoundedOpenLoop, type BoundedOpenLoopResult } from './serve/bounded-open-loop.js';
import type { ServerProcess } from './server-process.js';
import { startNodeServer } from './serve/node-server.js';
import { startFloorServer } from './serve/floor-server.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string): boolean => process.argv.includes(name);

const USERS = Number(arg('--users', '100000'));
const ITEMS = Number(arg('--items', '50000'));
const INTERACTIONS = Number(arg('--interactions', '4000000'));
const TOPICS = Number(arg('--topics', '32'));
const SEED = Number(arg('--seed', '7'));
const SECONDS = Number(arg('--seconds', '20'));
const STEP_SECONDS = Number(arg('--step-seconds', '10'));
const BASE_RATE = Number(arg('--rate', '1000'));
/** A comma-separated list of positive rates (empty for none). */
const rates = (raw: string): number[] =>
  raw
    .split(',')
    .map(Number)
    .filter((r) => Number.isFinite(r) && r > 0);
const RATES = rates(arg('--rates', '1100,1200,1300,1400,1500,1750,2000,2500,3000'));
const RATES_DOWN = rates(arg('--rates-down', '900,800,700,600,500,300,200,100'));
/** A run stops scheduling once an answer takes this long: the server is overloaded at that rate. */
const GIVE_UP_MS = Number(arg('--give-up-ms', '2000'));
const REPEAT = Number(arg('--repeat', '2'));
const UNKNOWN = Number(arg('--unknown', '0.05'));
const RECALL_QUERIES = Number(arg('--recall-queries', '2000'));
const PORT = Number(arg('--port', '18090'));
const DATA_DIR = arg('--data-dir', '');
const CPU_PROF = arg('--cpu-prof', '');
/** Extra Node/V8 flags for the server (space-separated); cluster workers inherit them. */
const NODE_FLAGS = arg('--node-flags', '')
  .split(' ')
  .filter((f) => f !== '');
/** Rate of the hot-swap phase (0: skipped). */
const SWAP_RATE = Number(arg('--swap-rate', '300'));
/** Serving processes (`kindred serve --workers`): 'auto' is one per core. */
const WORKERS = arg('--workers', 'auto');
/** The measured route as the server's /metrics names it. */
const RECOMMEND_ROUTE = '/recommend/:userId';
/** Measure the machine's floor (a bare node:http server under the same load); --no-floor skips it. */
const FLOOR = !flag('--no-floor');
const MODELS = arg('--models', 'popularity,trending,item-knn,als').split(',');
const PERSONAL = 'als';
const K = 10;
const P99_TARGET = 10;
const P99_CEILING = 20;
/** Written into a data dir once the shop is imported and the models trained. */
const PREPARED = 'serve-bench-prepared';

const figures: [string, string][] = [];
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const ms = (n: number): string => `${n.toFixed(2)} ms`;
const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20)} MB`;

function record(name: string, value: string): void {
  figures.push([name, value]);
  console.log(`  ${name}: ${value}`);
}

/** Request paths: known users at random, a share of unknown ones (no history, no trained row). */
function requestPaths(count: number, seed: number): string[] {
  let s = seed >>> 0;
  const next = (): number => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const user = next() < UNKNOWN ? `guest-${i}` : String(1 + Math.floor(next() * USERS));
    out[i] = `/recommend/${user}?placement=home&k=${K}`;
  }
  return out;
}

async function prepare(dir: string): Promise<void> {
  console.log(
    `1. synthetic shop: ${fmt(USERS)} users x ${fmt(ITEMS)} items, ${fmt(INTERACTIONS)} interactions → ${dir}`,
  );
  const shop = await buildShop(
    dir,
    { users: USERS, items: ITEMS, interactions: INTERACTIONS, topics: TOPICS, seed: SEED, spanDays: 60 },
    (line) => console.log(line),
  );
  const types = Object.entries(shop.types)
    .map(([t, n]) => `${t} ${fmt(n)}`)
    .join(', ');
  record(
    'data',
    `${fmt(USERS)} users x ${fmt(ITEMS)} items, ${fmt(shop.pairs)} interactions (${types}); generated in ${shop.generateSeconds.toFixed(1)} s`,
  );
  record(
    'bulk import into SQLite',
    `${fmt(shop.events.imported)} events in ${shop.events.seconds.toFixed(1)} s = ${fmt(shop.events.imported / shop.events.seconds)} events/s; ` +
      `${fmt(shop.items.imported)} items in ${shop.items.seconds.toFixed(1)} s`,
  );

  console.log(`2. training ${MODELS.join(', ')}`);
  const store = new SqliteStore(path.join(dir, 'kindred.db'));
  await store.init();
  try {
    const t = performance.now();
    const result = await trainModels(store, {
      models: MODELS,
      params: { als: { factors: 64 } },
      repo: new ArtifactRepository(path.join(dir, 'models')),
      progress: (m) => console.log(`  ${m}`),
    });
    record(
      'training',
      `${result.models.map((m) => `${m.info.name} ${m.info.fitSeconds.toFixed(1)} s`).join(', ')}; ` +
        `reading ${result.loadSeconds.toFixed(1)} s; total ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  } finally {
    await store.close();
  }
  writeFileSync(path.join(dir, PREPARED), `${new Date().toISOString()}\n`);
}

async function startServer(dir: string): Promise<{ server: ServerProcess; seconds: number }> {
  const flags: string[] = [...NODE_FLAGS];
  if (CPU_PROF) {
    mkdirSync(CPU_PROF, { recursive: true });
    flags.push('--cpu-prof', '--cpu-prof-dir', path.resolve(CPU_PROF));
  }
  const t = performance.now();
  const server = await startNodeServer(['serve', '--data-dir', dir, '--workers', WORKERS], PORT, flags, {
    path: '/ready',
    timeoutMs: 600_000,
    // Steady state: every worker listens and holds the users' histories in memory (each prints
    // one line when its index is built, or says why histories stay in the database).
    output: (printed) =>
      printed.includes('Kindred is listening') &&
      (printed.match(/histories (in memory|are read from the database)/g) ?? []).length >=
        workerCount(WORKERS),
  });
  return { server, seconds: (performance.now() - t) / 1000 };
}

interface TraceStage {
  stage: string;
  ms: number;
  candidates: number;
  detail?: Record<string, unknown>;
}

interface DebugAnswer {
  items: { itemId: string; sources: string[]; explanations: { text: string }[] }[];
  trace: TraceStage[];
  sources: Record<string, number>;
}

/** Sequential debug requests of known users: the mean per stage, round trip, and one sample trace. */
async function stageBreakdown(url: string, paths: string[]): Promise<void> {
  console.log('4. per-stage timing (debug=true, sequential requests of known users)');
  const known = paths.filter((p) => !p.includes('guest-')).slice(0, 300);
  const sums = new Map<string, number>();
  const roundTrips: number[] = [];
  let sample: DebugAnswer | null = null;
  for (const p of known) {
    const t = performance.now();
    const res = await fetch(`${url}${p}&debug=true`);
    const body = (await res.json()) as DebugAnswer;
    roundTrips.push(performance.now() - t);
    sample ??= body;
    for (const s of body.trace) sums.set(s.stage, (sums.get(s.stage) ?? 0) + s.ms);
  }
  roundTrips.sort((a, b) => a - b);
  const mean = (x: number): number => x / known.length;
  let inPipeline = 0;
  const parts: string[] = [];
  for (const [stage, total] of sums) {
    inPipeline += mean(total);
    parts.push(`${stage} ${mean(total).toFixed(3)}`);
  }
  const rtMean = roundTrips.reduce((a, b) => a + b, 0) / roundTrips.length;
  record(
    `pipeline stages, mean of ${known.length} debug requests (ms)`,
    `${parts.join(', ')}; pipeline ${inPipeline.toFixed(3)} of ${rtMean.toFixed(3)} round trip ` +
      `(p50 ${ms(roundTrips[roundTrips.length >> 1])}); the rest is HTTP, store reads (history, user) and the request context`,
  );
  if (sample) {
    console.log(`\n  sample trace, ${known[0]}&debug=true:`);
    console.log('  | stage | ms | candidates | detail |\n  |---|---|---|---|');
    for (const s of sample.trace)
      console.log(
        `  | ${s.stage} | ${s.ms.toFixed(3)} | ${s.candidates} | ${JSON.stringify(s.detail ?? {})} |`,
      );
    console.log(`  sources: ${JSON.stringify(sample.sources)}`);
    const top = sample.items[0];
    if (top)
      console.log(
        `  first item: ${top.itemId} from ${top.sources.join('+')}: ${top.explanations.map((e) => e.text).join('; ')}\n`,
      );
  }
}

function loadLine(r: BoundedOpenLoopResult): string {
  const sent = r.overloaded
    ? `overloaded: stopped after ${fmt(r.sent)} of ${fmt(r.planned)} requests (an answer took over ${fmt(GIVE_UP_MS)} ms)`
    : `${fmt(r.sent)} requests`;
  return (
    `p50 ${ms(r.p50)}, p90 ${ms(r.p90)}, p99 ${ms(r.p99)}, max ${ms(r.max)}; ` +
    `${sent}, ${fmt(r.completedRate)} answered/s, failed ${r.failed}`
  );
}

const within = (r: BoundedOpenLoopResult): boolean => !r.overloaded && r.failed === 0 && r.p99 < P99_CEILING;

/**
 * One pass: the base rate, then up the steps until p99 reaches the ceiling (or, when the base
 * rate already misses it, down the lower steps until one stays under it).
 */
async function loadPass(
  url: string,
  paths: string[],
  pass: number,
  serverPid: number | undefined,
): Promise<void> {
  let offset = pass * 1_000_003;
  const run = async (rate: number, seconds: number): Promise<BoundedOpenLoopResult> => {
    const base = offset;
    offset += rate * seconds;
    return runBoundedOpenLoop({
      url,
      rate,
      durationSeconds: seconds,
      path: (i) => paths[(base + i) % paths.length],
      giveUpMs: GIVE_UP_MS,
    });
  };
  const gcBefore = await readGcTotals(url);
  const handlerBefore = await readHandlerBuckets(url, RECOMMEND_ROUTE);
  const serverCpu = processTreeCpuSeconds(serverPid);
  const generatorCpu = process.cpuUsage();
  const base = await run(BASE_RATE, SECONDS);
  const serverSeconds = (processTreeCpuSeconds(serverPid) ?? NaN) - (serverCpu ?? NaN);
  const generator = process.cpuUsage(generatorCpu);
  const ownGc = describeGc(NO_GC, base.ownGc, 'the load generator');
  const gc = describeGc(gcBefore, await readGcTotals(url));
  const handler = describeHandlerTime(
    handlerBefore,
    await readHandlerBuckets(url, RECOMMEND_ROUTE),
    P99_TARGET,
  );
  // What a request costs in CPU, less noisy than the latencies on a shared machine.
  const cpu =
    `; CPU per request: server ${((serverSeconds * 1000) / base.sent).toFixed(2)} ms (every process and thread), ` +
    `load generator ${((generator.user + generator.system) / 1000 / base.sent).toFixed(2)} ms; ${handler}; ${gc}; ${ownGc}`;
  record(
    `run ${pass + 1}: ${fmt(BASE_RATE)} requests/s for ${SECONDS} s`,
    `${loadLine(base)} → p99 ${base.p99 <= P99_TARGET ? '≤' : '>'} ${P99_TARGET} ms${cpu}`,
  );
  let best = 0;
  const tried: number[] = [BASE_RATE];
  if (within(base)) {
    best = BASE_RATE;
    for (const rate of RATES.filter((r) => r > BASE_RATE)) {
      const r = await run(rate, STEP_SECONDS);
      tried.push(rate);
      record(`run ${pass + 1}: step ${fmt(rate)} requests/s for ${STEP_SECONDS} s`, loadLine(r));
      if (!within(r)) break;
      best = rate;
    }
  } else {
    for (const rate of RATES_DOWN.filter((r) => r < BASE_RATE)) {
      const r = await run(rate, STEP_SECONDS);
      tried.push(rate);
      record(`run ${pass + 1}: step ${fmt(rate)} requests/s for ${STEP_SECONDS} s`, loadLine(r));
      if (within(r)) {
        best = rate;
        break;
      }
    }
  }
  record(
    `run ${pass + 1}: most requests/s with p99 < ${P99_CEILING} ms`,
    best > 0 ? `${fmt(best)} requests/s (steps tried: ${tried.join(', ')})` : `none of ${tried.join(', ')}`,
  );
}

/**
 * The same load against a bare node:http server with as many workers, answering the same bytes
 * without any work: what this machine allows, under which no server's p99 can go.
 */
async function floorRuns(body: string): Promise<void> {
  const workers = workerCount(WORKERS);
  console.log(`7. the machine's floor: a bare node:http server, ${workers} workers, no work per request`);
  const floor = await startFloorServer(workers, PORT, body);
  try {
    for (let pass = 0; pass < REPEAT; pass++) {
      const cpu = processTreeCpuSeconds(floor.child.pid);
      const r = await runBoundedOpenLoop({
        url: floor.url,
        rate: BASE_RATE,
        durationSeconds: SECONDS,
        path: (i) => `/recommend/${i}?placement=home&k=${K}`,
        giveUpMs: GIVE_UP_MS,
      });
      const seconds = (processTreeCpuSeconds(floor.child.pid) ?? NaN) - (cpu ?? NaN);
      record(
        `floor run ${pass + 1}: bare node:http server (${workers} workers, the same ${fmt(Buffer.byteLength(body))}-byte answer, no work), ${fmt(BASE_RATE)} requests/s for ${SECONDS} s`,
        `${loadLine(r)}; CPU per request ${((seconds * 1000) / r.sent).toFixed(2)} ms`,
      );
    }
  } finally {
    await floor.stop();
  }
}

function recallFigures(r: AnnRecall): void {
  record(
    `ANN recall@${K} vs exact (${r.model}, ${fmt(r.items)} items x ${r.factors} factors, ${fmt(r.queries)} users)`,
    `${r.recall.toFixed(4)} at top-${K} efSearch ${ANN_EF_SEARCH}; ${r.recallServed.toFixed(4)} for the first ${K} of the ` +
      `top-${r.servedLimit} the home placement asks for, searched with a list of ${r.servedLimit} ` +
      `in ${r.servedP50.toFixed(3)} ms at the median (HNSW build ${r.buildSeconds.toFixed(1)} s; top-${K} ` +
      `search p50/p99 ${r.annP50.toFixed(3)}/${r.annP99.toFixed(3)} ms vs exact ${r.exactP50.toFixed(3)}/${r.exactP99.toFixed(3)} ms)`,
  );
}

/** Removes the served-recommendation log of a prepared dir; the bytes it held. */
function clearServedLog(dir: string): number {
  const file = servedLogPath(path.join(dir, 'kindred.db'));
  let bytes = 0;
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f)) continue;
    bytes += statSync(f).size;
    rmSync(f);
  }
  return bytes;
}

async function main(): Promise<void> {
  const reuse = DATA_DIR !== '' && existsSync(path.join(DATA_DIR, PREPARED));
  const dir = DATA_DIR || mkdtempSync(path.join(tmpdir(), 'kindred-serve-'));
  const removeAtEnd = DATA_DIR === '' && !flag('--keep');
  try {
    if (reuse) {
      // Lists served by earlier runs are not part of the prepared shop: each run adds ~2 KB per
      // request, and the writer's inserts cost more as the log grows, so every run on a reused
      // dir starts from the same empty log.
      const cleared = clearServedLog(dir);
      console.log(
        `1-2. reusing the shop and models in ${dir} (served lists of earlier runs cleared: ${fmt(cleared / 1e6)} MB)`,
      );
    } else {
      mkdirSync(dir, { recursive: true });
      await prepare(dir);
    }

    let floorBody = '';
    console.log('3. server process');
    const { server, seconds } = await startServer(dir);
    record(
      'server start to steady state (every worker listens with its models, catalogue and ANN index, and holds the histories in memory)',
      `${seconds.toFixed(1)} s`,
    );
    try {
      const paths = requestPaths(200_000, SEED);
      // Warm-up to a steady state: compiled code, name caches, the pages of the users' histories.
      await runBoundedOpenLoop({
        url: server.url,
        rate: 400,
        durationSeconds: 15,
        path: (i) => paths[i],
        giveUpMs: GIVE_UP_MS,
      }); // warm-up
      await stageBreakdown(server.url, paths);
      // The machine's own interruptions, measured with the server idle: a floor under any p99.
      const noise = await measureSchedulingNoise(availableParallelism(), 10);
      record(
        `scheduling noise (${noise.threads} busy threads, one per core, ${noise.seconds} s, server idle)`,
        `${noise.gaps} gaps over ${noise.gapMs} ms, longest ${noise.longest.toFixed(1)} ms`,
      );
      console.log(`5. open-loop load, ${Math.round(UNKNOWN * 100)}% unknown users, placement=home, k=${K}`);
      for (let pass = 0; pass < REPEAT; pass++) await loadPass(server.url, paths, pass, server.child.pid);
      if (SWAP_RATE > 0) {
        const swap = await swapUnderLoad(
          server.url,
          PERSONAL,
          SWAP_RATE,
          12,
          (i) => paths[(i + 7_000_003) % paths.length],
        );
        const l = swap.load;
        record(
          `hot swap under load (${PERSONAL} promoted again: every worker reloads the model and its saved index)`,
          `${SWAP_RATE} requests/s for 12 s with the swap (${swap.swapSeconds.toFixed(1)} s) inside: p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(2)} ms, failed ${l.failed}`,
        );
      }
      const mem = processTreeMemory(server.child.pid);
      if (mem)
        record(
          `server resident memory (${mem.processes} processes: primary and workers)`,
          `sum of peaks ${mb(mem.peak)} (VmHWM), now ${mb(mem.now)}`,
        );
      floorBody = await (await fetch(`${server.url}${paths[0]}`)).text();
    } finally {
      await server.stop();
    }
    if (CPU_PROF) console.log(`  CPU profile of the server written to ${path.resolve(CPU_PROF)}`);

    if (RECALL_QUERIES > 0) {
      console.log('6. ANN recall against exact search');
      recallFigures(
        measureAnnRecall(path.join(dir, 'models'), PERSONAL, {
          queries: RECALL_QUERIES,
          k: K,
          // What the home placement asks of the ANN source for a list of K.
          servedLimit: sourceLimit(ANN_SIZING, K),
          seed: SEED,
        }),
      );
    }
    if (FLOOR && floorBody) await floorRuns(floorBody);
  } finally {
    if (removeAtEnd) rmSync(dir, { recursive: true, force: true });
    else console.log(`data dir kept: ${dir}`);
  }
  console.log(
    `\nServing benchmark (machine shared with other work: latencies are noisy)\n\n| figure | value |\n|---|---|`,
  );
  for (const [k, v] of figures) console.log(`| ${k} | ${v} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
