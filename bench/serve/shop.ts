/**
 * A synthetic shop for the serving benchmark: interactions with latent tastes (generateInteractions)
 * written as typed events, a catalogue with categories, prices and stock, both bulk-imported
 * into a SQLite data dir through the project's own importers.
 */
import { open } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { importEventsFile, importItemsFile } from '../../src/ingest/importers/delimited.js';
import type { ImportReport } from '../../src/ingest/importers/report.js';
import { Rng } from '../../src/ingest/prng.js';
import { generateInteractions, type InteractionSet } from '../../src/ingest/synthetic.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

export interface ShopOptions {
  users: number;
  items: number;
  /** Distinct (user, item) pairs. */
  interactions: number;
  /** Latent topics of the interactions (also the number of top-level categories). */
  topics: number;
  seed: number;
  /** The events end this long before now and cover `spanDays` days. */
  spanDays: number;
}

export interface ShopResult {
  pairs: number;
  draws: number;
  generateSeconds: number;
  items: ImportReport;
  events: ImportReport;
  /** Events by type. */
  types: Record<string, number>;
}

/** Value of a pair (1..5: taste draws rate 3..5) → event type; the strongest taste draws are purchases. */
export const TYPE_OF_VALUE = ['view', 'view', 'view', 'click', 'cart', 'purchase'] as const;

const LINES_PER_WRITE = 65_536;

/** Writes `user \t item \t type \t seconds` lines (ids 1-based) spread evenly over the span in draw order. */
async function writeEvents(
  file: string,
  set: InteractionSet,
  startSeconds: number,
  spanSeconds: number,
  counts: Record<string, number>,
): Promise<void> {
  const out = await open(file, 'w');
  const step = set.length > 0 ? spanSeconds / set.length : 0;
  try {
    for (let done = 0; done < set.length;) {
      const n = Math.min(LINES_PER_WRITE, set.length - done);
      const lines = new Array<string>(n);
      for (let k = 0; k < n; k++) {
        const e = done + k;
        const type = TYPE_OF_VALUE[Math.max(0, Math.min(5, Math.round(set.value[e])))];
        counts[type] = (counts[type] ?? 0) + 1;
        lines[k] =
          `${set.user[e] + 1}\t${set.item[e] + 1}\t${type}\t${Math.floor(startSeconds + e * step)}\n`;
      }
      await out.write(lines.join(''));
      done += n;
    }
  } finally {
    await out.close();
  }
}

/**
 * Writes the catalogue: `id, title, categories, available, price, stock, brand` with a header.
 * Each item has a top-level category and a sub-category under it; about 1% are unavailable and
 * 2% out of stock, so the filters have something to remove.
 */
async function writeItems(file: string, items: number, topics: number, seed: number): Promise<void> {
  const rng = new Rng(seed);
  const out = await open(file, 'w');
  try {
    const rows: string[] = ['id\ttitle\tcategories\tavailable\tprice\tstock\tbrand\n'];
    for (let i = 0; i < items; i++) {
      const cat = rng.int(Math.max(1, topics));
      const sub = rng.int(6);
      const price = Math.round(Math.exp(2 + 2 * rng.next()) * 100) / 100;
      const stock = rng.chance(0.02) ? 0 : 1 + rng.int(200);
      const available = rng.chance(0.01) ? 'false' : 'true';
      rows.push(
        `${i + 1}\tItem ${i + 1}\tCategory ${cat}|Category ${cat}/Sub ${sub}\t${available}\t${price}\t${stock}\tBrand ${rng.int(300)}\n`,
      );
      if (rows.length >= LINES_PER_WRITE) {
        await out.write(rows.join(''));
        rows.length = 0;
      }
    }
    await out.write(rows.join(''));
  } finally {
    await out.close();
  }
}

/** Generates the shop and imports it into `<dataDir>/kindred.db`; `log` gets progress lines. */
export async function buildShop(
  dataDir: string,
  o: ShopOptions,
  log: (line: string) => void,
): Promise<ShopResult> {
  const t0 = performance.now();
  let lastReport = 0;
  const set = generateInteractions({
    users: o.users,
    items: o.items,
    interactions: o.interactions,
    topics: o.topics,
    taste: 0.8,
    values: 'ratings',
    seed: o.seed,
    onProgress: (done, total) => {
      const now = performance.now();
      if (now - lastReport > 2000 || done === total) {
        lastReport = now;
        log(
          `  interactions: ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} distinct pairs`,
        );
      }
    },
  });
  const generateSeconds = (performance.now() - t0) / 1000;
  log(
    `  generated ${set.length.toLocaleString('en-US')} pairs (${set.draws.toLocaleString('en-US')} draws) in ${generateSeconds.toFixed(1)} s`,
  );

  const eventsFile = path.join(dataDir, 'events.tsv');
  const itemsFile = path.join(dataDir, 'items.tsv');
  const spanSeconds = o.spanDays * 86_400;
  const startSeconds = Math.floor(Date.now() / 1000) - spanSeconds - 3600;
  const types: Record<string, number> = {};
  await writeEvents(eventsFile, set, startSeconds, spanSeconds, types);
  await writeItems(itemsFile, o.items, o.topics, o.seed + 1);

  const store = new SqliteStore(path.join(dataDir, 'kindred.db'));
  await store.init();
  try {
    const items = await importItemsFile(
      store,
      itemsFile,
      {
        id: 'id',
        title: 'title',
        categories: 'categories',
        available: 'available',
        attributes: ['price', 'stock', 'brand'],
      },
      { delimiter: '\t', header: true, progress: { label: 'items.tsv', mode: 'lines' } },
    );
    log(
      `  items: ${items.imported.toLocaleString('en-US')} imported, ${items.bad} bad in ${items.seconds.toFixed(1)} s`,
    );
    const events = await importEventsFile(
      store,
      eventsFile,
      { user: 0, item: 1, type: 2, timestamp: 3, timestampUnit: 's' },
      { delimiter: '\t', header: false, progress: { label: 'events.tsv', mode: 'lines' } },
    );
    log(
      `  events: ${events.imported.toLocaleString('en-US')} imported, ${events.bad} bad in ${events.seconds.toFixed(1)} s ` +
        `(${Math.round(events.imported / events.seconds).toLocaleString('en-US')} events/s)`,
    );
    return { pairs: set.length, draws: set.draws, generateSeconds, items, events, types };
  } finally {
    await store.close();
    rmSync(eventsFile, { force: true });
    rmSync(itemsFile, { force: true });
  }
}
