import { createWriteStream, readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { Command, Option } from 'commander';
import type { Engine } from '../serving/engine.js';
import { createProgress } from '../ingest/progress.js';
import { configFrom, openEngine, positiveInt, withStoreOptions, type StoreFlags } from './common.js';

/** RFC 4180 quoting where a field needs it. */
export function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function* allUserIds(engine: Engine): AsyncIterable<string> {
  let cursor: string | null = null;
  do {
    const page = await engine.store.listUsers({ limit: 1000, cursor });
    for (const u of page.rows) yield u.id;
    cursor = page.nextCursor;
  } while (cursor);
}

async function* listed(ids: string[]): AsyncIterable<string> {
  yield* ids;
}

/** Where each user's list comes from: one model, or a placement's whole pipeline. */
export type BatchSource =
  { model?: string; placement?: undefined } | { placement: string; model?: undefined };

/**
 * Writes every user's list: CSV `user,item,rank,score`, or JSON lines with the sources and
 * explanations of each item (`jsonl`). Returns the number of users written.
 */
export async function writeRecommendations(
  engine: Engine,
  users: AsyncIterable<string>,
  k: number,
  out: Writable,
  onUser?: () => void,
  source: BatchSource = {},
  format: 'csv' | 'jsonl' = 'csv',
): Promise<number> {
  let n = 0;
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  if (source.placement !== undefined) {
    if (format === 'csv') await write('user,item,rank,score\n');
    for await (const userId of users) {
      const rec = await engine.pipelines.recommend({ userId, placement: source.placement, k });
      if (format === 'jsonl') {
        await write(JSON.stringify({ user: userId, placement: rec.placement, items: rec.items }) + '\n');
      } else {
        const u = csvField(userId);
        await write(
          rec.items
            .map((it) => `${u},${csvField(it.itemId)},${it.rank},${Number(it.score.toPrecision(6))}\n`)
            .join(''),
        );
      }
      n++;
      onUser?.();
    }
    return n;
  }
  if (format === 'jsonl')
    throw new Error('--format jsonl needs --placement (explanations come from the pipeline)');
  await write('user,item,rank,score\n');
  for await (const userId of users) {
    const rec = await engine.service.recommend(userId, k, 'batch', { model: source.model });
    let lines = '';
    const u = csvField(userId);
    rec.items.forEach((it, i) => {
      lines += `${u},${csvField(it.itemId)},${i + 1},${Number(it.score.toPrecision(6))}\n`;
    });
    await write(lines);
    n++;
    onUser?.();
  }
  return n;
}

export function recommendCommand(): Command {
  return withStoreOptions(new Command('recommend'))
    .description('batch top-K recommendations for all or listed users, as CSV user,item,rank,score')
    .option('-k, --k <n>', 'items per user', positiveInt('--k'), 10)
    .option('--users <ids>', 'comma-separated user ids (default: every user in the store)')
    .option('--users-file <file>', 'a file with one user id per line')
    .option('-o, --out <file>', 'output CSV file (default: standard output)')
    .option('--model <name>', 'the trained model that ranks (default: item-knn, then popularity)')
    .option(
      '--placement <name>',
      'run the placement pipeline instead (home, email, next, ...): sources, filters, rules',
    )
    .addOption(
      new Option('--format <format>', 'csv, or jsonl with sources and explanations')
        .choices(['csv', 'jsonl'])
        .default('csv'),
    )
    .action(
      async (
        flags: StoreFlags & {
          k: number;
          users?: string;
          usersFile?: string;
          out?: string;
          model?: string;
          placement?: string;
          format: 'csv' | 'jsonl';
        },
      ) => {
        const engine = await openEngine(configFrom(flags));
        try {
          if (flags.model && flags.placement) throw new Error('give --model or --placement, not both');
          if (flags.model) await engine.load([flags.model]);
          if (flags.placement && !engine.pipelines.ready)
            throw new Error('no trained model is loaded yet: run kindred train first');
          let ids: string[] | null = null;
          if (flags.users)
            ids = flags.users
              .split(',')
              .map((s) => s.trim())
              .filter(Boolean);
          if (flags.usersFile) {
            ids = readFileSync(flags.usersFile, 'utf8')
              .split(/\r?\n/)
              .map((s) => s.trim())
              .filter(Boolean);
          }
          const total = ids ? ids.length : await engine.store.countUsers();
          const out = flags.out ? createWriteStream(flags.out) : process.stdout;
          const progress = createProgress({ total, unit: 'users', silent: !flags.out });
          const n = await writeRecommendations(
            engine,
            ids ? listed(ids) : allUserIds(engine),
            flags.k,
            out,
            () => progress.increment(1),
            flags.placement !== undefined ? { placement: flags.placement } : { model: flags.model },
            flags.format,
          );
          progress.stop();
          if (flags.out) {
            out.end();
            await once(out, 'finish');
            console.error(`wrote top-${flags.k} for ${n} users to ${flags.out}`);
          }
        } finally {
          await engine.close();
        }
      },
    );
}
