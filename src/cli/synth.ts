import { Command, Option } from 'commander';
import type { EventInput } from '../domain/types.js';
import { createProgress, formatCount } from '../ingest/progress.js';
import {
  B3_PRESET,
  generateInteractions,
  writeInteractionsTsv,
  type InteractionSet,
  type InteractionSetOptions,
} from '../ingest/synthetic.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { configFrom, positiveInt, withStoreOptions, type StoreFlags } from './common.js';

export interface SynthFlags extends StoreFlags {
  preset?: 'b3';
  users?: number;
  items?: number;
  interactions?: number;
  seed: number;
  out?: string;
  exponent?: number;
  userExponent?: number;
  topics?: number;
  taste?: number;
  values?: 'ones' | 'ratings';
  eventType: string;
  batchSize: number;
  quiet?: boolean;
}

const DEFAULTS = { users: 1000, items: 1000, interactions: 50_000 };
const START_SECONDS = Date.UTC(2024, 0, 1) / 1000;
const SPAN_SECONDS = 365 * 86_400;

function nonNegativeNumber(flag: string): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new Error(`${flag} must be a non-negative number, got '${raw}'`);
    }
    return n;
  };
}

function nonNegativeInt(flag: string): (raw: string) => number {
  return (raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`${flag} must be a non-negative integer, got '${raw}'`);
    return n;
  };
}

/** The generator options the flags ask for (a preset first, then explicit flags over it). */
export function synthOptions(flags: SynthFlags): InteractionSetOptions {
  const base: InteractionSetOptions = flags.preset === 'b3' ? { ...B3_PRESET } : { ...DEFAULTS };
  const set = <K extends keyof InteractionSetOptions>(key: K, v: InteractionSetOptions[K] | undefined) => {
    if (v !== undefined) base[key] = v;
  };
  set('users', flags.users);
  set('items', flags.items);
  set('interactions', flags.interactions);
  set('exponent', flags.exponent);
  set('userExponent', flags.userExponent);
  set('topics', flags.topics);
  set('taste', flags.taste);
  set('values', flags.values);
  base.seed = flags.seed;
  return base;
}

/** Inserts the pairs as events (ids 1-based, timestamps spread over a year in draw order). */
export async function insertInteractions(
  store: Store,
  set: InteractionSet,
  eventType: string,
  batchSize: number,
  onProgress?: (done: number) => void,
): Promise<number> {
  const startMs = START_SECONDS * 1000;
  const stepMs = set.length > 0 ? (SPAN_SECONDS * 1000) / set.length : 0;
  let inserted = 0;
  for (let from = 0; from < set.length; from += batchSize) {
    const to = Math.min(set.length, from + batchSize);
    const batch: EventInput[] = [];
    for (let e = from; e < to; e++) {
      batch.push({
        userId: String(set.user[e] + 1),
        itemId: String(set.item[e] + 1),
        type: eventType,
        value: set.value[e],
        timestamp: Math.floor(startMs + e * stepMs),
        sessionId: null,
        context: null,
        clientEventId: null,
      });
    }
    inserted += (await store.insertEvents(batch)).inserted;
    onProgress?.(to);
  }
  return inserted;
}

export function synthCommand(): Command {
  return withStoreOptions(new Command('synth'))
    .description(
      'generate a synthetic interaction dataset (power-law items, skewed users, latent tastes) as TSV ' +
        '(user, item, value, timestamp) or straight into the store',
    )
    .addOption(
      new Option(
        '--preset <name>',
        'b3: 200,000 users x 50,000 items x 20,000,000 distinct pairs of value 1, uniform users, no tastes',
      ).choices(['b3']),
    )
    .option('--users <n>', `users (default ${DEFAULTS.users})`, positiveInt('--users'))
    .option('--items <n>', `items (default ${DEFAULTS.items})`, positiveInt('--items'))
    .option(
      '--interactions <n>',
      `distinct (user, item) pairs (default ${DEFAULTS.interactions})`,
      nonNegativeInt('--interactions'),
    )
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), 1)
    .option('-o, --out <file>', 'write a TSV file instead of loading the store')
    .option(
      '--exponent <s>',
      'item popularity: the r-th item is drawn ∝ r^-s (default 0.8)',
      nonNegativeNumber('--exponent'),
    )
    .option(
      '--user-exponent <s>',
      'user activity skew, 0 for uniform (default 0.5)',
      nonNegativeNumber('--user-exponent'),
    )
    .option('--topics <n>', 'latent tastes, 0 for none (default 16)', nonNegativeInt('--topics'))
    .option(
      '--taste <share>',
      "share of draws from the user's tastes, 0..1 (default 0.8)",
      nonNegativeNumber('--taste'),
    )
    .addOption(
      new Option('--values <kind>', 'ones, or ratings 1..5 (default ratings)').choices(['ones', 'ratings']),
    )
    .option('--event-type <type>', 'event type of the stored events', 'rating')
    .option('--batch-size <n>', 'events per store transaction', positiveInt('--batch-size'), 20_000)
    .option('-q, --quiet', 'no progress')
    .action(async (flags: SynthFlags) => {
      const options = synthOptions(flags);
      const silent = flags.quiet === true;
      const started = performance.now();
      const gen = createProgress({ total: options.interactions, unit: 'pairs', label: 'generating', silent });
      const set = generateInteractions({ ...options, onProgress: (done) => gen.update(done) });
      gen.stop(`${formatCount(set.draws)} draws`);
      const what =
        `${formatCount(options.users)} users x ${formatCount(options.items)} items, ` +
        `${formatCount(set.length)} distinct pairs`;
      if (flags.out) {
        const out = createProgress({ total: set.length, unit: 'lines', label: flags.out, silent });
        const r = await writeInteractionsTsv(flags.out, set, {
          startSeconds: START_SECONDS,
          spanSeconds: SPAN_SECONDS,
          onProgress: (done) => out.update(done),
        });
        out.stop();
        console.log(
          `wrote ${flags.out}: ${what} (${formatCount(r.bytes)} bytes) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
        return;
      }
      const store = await openStore(configFrom(flags).store);
      try {
        const bar = createProgress({ total: set.length, unit: 'events', label: 'storing', silent });
        const inserted = await insertInteractions(store, set, flags.eventType, flags.batchSize, (done) =>
          bar.update(done),
        );
        bar.stop();
        console.log(
          `stored ${what} as ${formatCount(inserted)} '${flags.eventType}' events in ${((performance.now() - started) / 1000).toFixed(1)} s`,
        );
      } finally {
        await store.close();
      }
    });
}
