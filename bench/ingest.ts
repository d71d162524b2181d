/**
 * Ingestion and serving figures:
 *   1. bulk import of MovieLens 100K u.data into SQLite (events/s)
 *   2. bulk import of a 10-million-event synthetic TSV into SQLite (events/s)
 *   3. HTTP batch ingestion, 1,000 events a request (events/s; acknowledged == stored)
 *   4. GET /recommend on the sample shop at a fixed 1,000 and 2,000 requests/s (p50, p99), and the
 *      most requests/s 16 connections get
 *
 * Environment: BENCH_EVENTS (synthetic events, default 10,000,000), BENCH_SECONDS (load duration,
 * default 20), BENCH_PORT (default 18080).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { importEventsFile } from '../src/ingest/importers/delimited.js';
import { importMovieLens } from '../src/ingest/importers/movielens.js';
import { writeSyntheticEventsFile } from '../src/ingest/synthetic.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { runLoad } from './load.js';
import { runOpenLoop } from './open-loop.js';
import { startServerProcess } from './server-process.js';

const ML = path.resolve('../shared/data/ml-100k');
const SYNTH_EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const PORT = Number(process.env.BENCH_PORT ?? 18080);
const HTTP_BATCHES = Number(process.env.BENCH_HTTP_BATCHES ?? 3000);

const figures: [string, string][] = [];
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const ms = (n: number) => `${n.toFixed(2)} ms`;

function record(name: string, value: string): void {
  figures.push([name, value]);
  console.log(`  ${name}: ${value}`);
}

async function freshStore(dir: string): Promise<SqliteStore> {
  const store = new SqliteStore(path.join(dir, 'kindred.db'));
  await store.init();
  return store;
}

async function benchMovieLens(work: string): Promise<void> {
  if (!existsSync(path.join(ML, 'u.data'))) {
    console.log(`skipping the MovieLens import: ${ML} is absent`);
    return;
  }
  console.log('1. MovieLens 100K u.data → SQLite');
  const store = await freshStore(mkdtempSync(path.join(work, 'ml-')));
  const r = await importMovieLens(store, ML, { metadata: false });
  await store.close();
  record(
    'ML-100K u.data import',
    `${fmt(r.events.imported)} events in ${r.events.seconds.toFixed(2)} s = ${fmt(r.events.imported / r.events.seconds)} events/s`,
  );
}

async function benchSynthetic(work: string): Promise<void> {
  console.log(`2. synthetic ${fmt(SYNTH_EVENTS)} events → SQLite`);
  const file = path.join(work, 'synthetic.tsv');
  const w = await writeSyntheticEventsFile(file, {
    users: 200_000,
    items: 50_000,
    events: SYNTH_EVENTS,
    seed: 7,
  });
  console.log(
    `  wrote ${fmt(w.lines)} lines (${(w.bytes / 1e6).toFixed(0)} MB) in ${w.seconds.toFixed(1)} s`,
  );
  const store = await freshStore(mkdtempSync(path.join(work, 'syn-')));
  const r = await importEventsFile(
    store,
    file,
    { user: 0, item: 1, value: 2, timestamp: 3, timestampUnit: 's', defaultType: 'rating' },
    { header: false, progress: { label: 'synthetic.tsv' } },
  );
  const stored = await store.countEvents();
  await store.close();
  rmSync(file);
  record(
    'synthetic TSV import',
    `${fmt(r.imported)} events in ${r.seconds.toFixed(1)} s = ${fmt(r.imported / r.seconds)} events/s (bad ${r.bad}, stored ${fmt(stored)})`,
  );
}

function eventBatch(batch: number, size: number): string {
  const rows = new Array(size);
  const now = Date.now();
  for (let i = 0; i < size; i++) {
    const n = batch * size + i;
    rows[i] = {
      userId: `u${(n * 7919) % 100_000}`,
      itemId: `i${(n * 104_729) % 20_000}`,
      type: i % 10 === 0 ? 'purchase' : 'view',
      timestamp: now,
      clientEventId: `b${batch}-${i}`,
    };
  }
  return JSON.stringify(rows);
}

async function benchHttpIngest(work: string): Promise<void> {
  console.log('3. HTTP batch ingestion, 1,000 events a request');
  const dir = mkdtempSync(path.join(work, 'http-'));
  const server = await startServerProcess(['serve', '--data-dir', dir], PORT, { path: '/health' });
  try {
    let batch = 0;
    let acknowledged = 0;
    const r = await runLoad({
      url: server.url,
      connections: 4,
      amount: HTTP_BATCHES,
      method: 'POST',
      next: () => ({ path: '/events', body: eventBatch(batch++, 1000) }),
      onResponse: (status, body) => {
        if (status === 200) acknowledged += (JSON.parse(body) as { accepted: number }).accepted;
      },
    });
    const stats = (await (await fetch(`${server.url}/stats`)).json()) as { events: number };
    record(
      'HTTP batch ingestion',
      `${fmt(acknowledged / r.seconds)} events/s (${fmt(r.requestsPerSecond)} requests/s, p99 ${ms(r.p99)}); ` +
        `acknowledged ${fmt(acknowledged)}, stored ${fmt(stats.events)}, ${stats.events === acknowledged ? 'nothing lost' : 'MISMATCH'}; errors ${r.errors + r.non2xx}`,
    );
  } finally {
    await server.stop();
  }
}

async function benchRecommend(work: string): Promise<void> {
  console.log('4. GET /recommend on the sample shop');
  const dir = mkdtempSync(path.join(work, 'shop-'));
  const server = await startServerProcess(['demo', '--data-dir', dir], PORT, {
    path: '/ready',
    timeoutMs: 300_000,
  });
  try {
    const users: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = (await (await fetch(`${server.url}/users?limit=1000${q}`)).json()) as {
        users: { id: string }[];
        nextCursor: string | null;
      };
      for (const u of page.users) users.push(u.id);
      cursor = page.nextCursor;
    } while (cursor);
    const userPath = (i: number) => `/recommend/${encodeURIComponent(users[(i * 7919) % users.length])}?k=10`;
    await runOpenLoop({ url: server.url, rate: 500, durationSeconds: 3, path: userPath }); // warm-up
    for (const rate of [1000, 2000]) {
      const r = await runOpenLoop({ url: server.url, rate, durationSeconds: SECONDS, path: userPath });
      record(
        `GET /recommend at ${fmt(rate)} requests/s (open loop)`,
        `p50 ${ms(r.p50)}, p90 ${ms(r.p90)}, p99 ${ms(r.p99)}, max ${ms(r.max)}; ${fmt(r.achievedRate)} requests/s sent; failed ${r.failed}`,
      );
    }
    let n = 0;
    const closed = await runLoad({
      url: server.url,
      connections: 16,
      durationSeconds: SECONDS,
      next: () => ({ path: userPath(n++) }),
    });
    record(
      'GET /recommend, as fast as possible (16 connections)',
      `${fmt(closed.requestsPerSecond)} requests/s, p50 ${ms(closed.p50)}, p99 ${ms(closed.p99)}; errors ${closed.errors + closed.non2xx}`,
    );
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const work = mkdtempSync(path.join(tmpdir(), 'kindred-bench-'));
  try {
    await benchMovieLens(work);
    await benchSynthetic(work);
    await benchHttpIngest(work);
    await benchRecommend(work);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  console.log('\n| figure | value |\n|---|---|');
  for (const [k, v] of figures) console.log(`| ${k} | ${v} |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
