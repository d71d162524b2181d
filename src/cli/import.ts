import path from 'node:path';
import { Command, Option } from 'commander';
import type { TimestampUnit } from '../ingest/timestamps.js';
import type { ProgressOptions } from '../ingest/progress.js';
import {
  importEventsFile,
  importItemsFile,
  importUsersFile,
  type DelimitedOptions,
} from '../ingest/importers/delimited.js';
import { importEventsJsonl, importItemsJsonl, importUsersJsonl } from '../ingest/importers/jsonl.js';
import type {
  AttributeColumns,
  Column,
  EventMapping,
  ItemMapping,
  UserMapping,
} from '../ingest/importers/mapping.js';
import { importMovieLens } from '../ingest/importers/movielens.js';
import type { ImportReport } from '../ingest/importers/report.js';
import { openStore } from '../store/open-store.js';
import type { Store } from '../store/store.js';
import { configFrom, positiveInt, withStoreOptions, type StoreFlags } from './common.js';

/** A column given on the command line: a whole number is a 0-based position, anything else a header name. */
export function parseColumn(raw: string): Column {
  return /^\d+$/.test(raw) ? Number(raw) : raw;
}

/** `price,brand` (named after the column) or `price=cost,brand=3`. */
export function parseAttributes(raw: string): AttributeColumns {
  const parts = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.every((p) => !p.includes('='))) return parts.map(parseColumn);
  const out: Record<string, Column> = {};
  for (const p of parts) {
    const [name, col] = p.split('=');
    if (!name || col === undefined || col === '') {
      throw new Error(`--attributes must be col,col or name=col,name=col, got '${raw}'`);
    }
    out[name] = parseColumn(col);
  }
  return out;
}

function parseDelimiter(raw: string): string {
  const named: Record<string, string> = {
    '\\t': '\t',
    tab: '\t',
    comma: ',',
    semicolon: ';',
    pipe: '|',
    space: ' ',
  };
  const d = named[raw] ?? raw;
  if (d.length !== 1)
    throw new Error(`--delimiter must be one character (or tab, comma, semicolon, pipe), got '${raw}'`);
  return d;
}

interface FileFlags extends StoreFlags {
  format?: 'csv' | 'tsv' | 'jsonl';
  delimiter?: string;
  header?: boolean;
  batchSize?: number;
  quiet?: boolean;
}

function fileOptions(cmd: Command): Command {
  return withStoreOptions(cmd)
    .addOption(
      new Option(
        '--format <format>',
        'file format (default: from the extension; .jsonl/.ndjson are JSONL)',
      ).choices(['csv', 'tsv', 'jsonl']),
    )
    .option(
      '--delimiter <char>',
      'field delimiter: a character, or tab, comma, semicolon, pipe',
      parseDelimiter,
    )
    .option('--header', 'the first line is a header')
    .option('--no-header', 'the first line is data')
    .option('--batch-size <n>', 'rows per store transaction', positiveInt('--batch-size'))
    .option('-q, --quiet', 'no progress bar');
}

function isJsonl(file: string, flags: FileFlags): boolean {
  if (flags.format) return flags.format === 'jsonl';
  return ['.jsonl', '.ndjson'].includes(path.extname(file).toLowerCase());
}

function delimitedOptions(file: string, flags: FileFlags, progress: ProgressOptions): DelimitedOptions {
  const delimiter =
    flags.delimiter ?? (flags.format === 'tsv' ? '\t' : flags.format === 'csv' ? ',' : undefined);
  return {
    delimiter,
    header: flags.header,
    batchSize: flags.batchSize,
    progress: { ...progress, label: path.basename(file) },
  };
}

function progressOf(flags: { quiet?: boolean }): ProgressOptions {
  return { silent: flags.quiet === true };
}

/** Prints an import report: the counts, then the first bad rows with their line numbers. */
export function printReport(what: string, r: ImportReport, log: (line: string) => void = console.log): void {
  const rate = r.seconds > 0 ? Math.round(r.imported / r.seconds) : r.imported;
  log(
    `${what}: ${r.rows} rows read, ${r.imported} imported, ${r.duplicates} duplicates, ${r.bad} bad ` +
      `in ${r.seconds.toFixed(2)} s (${rate.toLocaleString('en-US')} rows/s)`,
  );
  const shown = r.errors.slice(0, 20);
  for (const e of shown) log(`  ${e.file ? `${e.file}:` : 'line '}${e.line}: ${e.field} ${e.message}`);
  if (r.bad > shown.length) log(`  ... and ${r.bad - shown.length} more bad rows`);
}

async function withStore<T>(flags: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(configFrom(flags).store);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function movielensCommand(): Command {
  return withStoreOptions(new Command('movielens'))
    .description('import a MovieLens folder: u.data/u.item/u.user (100K) or ratings.csv/movies.csv/tags.csv')
    .argument('<dir>', 'the MovieLens folder')
    .option('--ratings-file <file>', 'ratings to load instead of u.data/ratings.csv, e.g. u1.base')
    .option('--no-metadata', 'ratings only: skip users and movies')
    .option('--no-tags', 'ml-latest: do not attach tags.csv to the movies')
    .option('--event-type <type>', 'event type of the ratings', 'rating')
    .option('-q, --quiet', 'no progress bar')
    .action(
      async (
        dir: string,
        flags: StoreFlags & {
          ratingsFile?: string;
          metadata: boolean;
          tags: boolean;
          eventType: string;
          quiet?: boolean;
        },
      ) => {
        await withStore(flags, async (store) => {
          const r = await importMovieLens(store, dir, {
            ratingsFile: flags.ratingsFile,
            metadata: flags.metadata,
            tags: flags.tags,
            eventType: flags.eventType,
            progress: progressOf(flags),
          });
          if (r.users) printReport('users', r.users);
          if (r.items) printReport('movies', r.items);
          if (r.tags) printReport('tags', r.tags);
          printReport('ratings', r.events);
        });
      },
    );
}

function eventsCommand(): Command {
  return fileOptions(new Command('events'))
    .description('import events from CSV/TSV (any delimiter, header or not) or JSONL, mapping the columns')
    .argument('<file>')
    .option('--user <col>', 'user id column: a header name or a 0-based position', parseColumn)
    .option('--item <col>', 'item id column', parseColumn)
    .option('--type <col>', 'event type column', parseColumn)
    .option('--value <col>', 'value column (rating, seconds, quantity)', parseColumn)
    .option('--time <col>', 'timestamp column', parseColumn)
    .addOption(
      new Option('--time-unit <unit>', 'timestamp unit').choices(['s', 'ms', 'iso', 'auto']).default('auto'),
    )
    .option('--session <col>', 'session id column', parseColumn)
    .option('--client-id <col>', 'client event id column (re-imports skip rows already stored)', parseColumn)
    .option(
      '--default-type <type>',
      'event type when there is no type column (default: rating with a value column, else view)',
    )
    .action(
      async (
        file: string,
        flags: FileFlags & {
          user?: Column;
          item?: Column;
          type?: Column;
          value?: Column;
          time?: Column;
          timeUnit: TimestampUnit;
          session?: Column;
          clientId?: Column;
          defaultType?: string;
        },
      ) => {
        if ((flags.user === undefined) !== (flags.item === undefined)) {
          throw new Error(
            '--user and --item go together (or give neither to infer the columns from the header)',
          );
        }
        const mapping: EventMapping | undefined =
          flags.user !== undefined && flags.item !== undefined
            ? {
                user: flags.user,
                item: flags.item,
                type: flags.type,
                value: flags.value,
                timestamp: flags.time,
                timestampUnit: flags.timeUnit,
                session: flags.session,
                clientEventId: flags.clientId,
                defaultType: flags.defaultType,
              }
            : undefined;
        await withStore(flags, async (store) => {
          const r = isJsonl(file, flags)
            ? await importEventsJsonl(store, file, mapping, {
                batchSize: flags.batchSize,
                progress: progressOf(flags),
              })
            : await importEventsFile(store, file, mapping, delimitedOptions(file, flags, progressOf(flags)));
          printReport('events', r);
        });
      },
    );
}

function itemsCommand(): Command {
  return fileOptions(new Command('items'))
    .description('import items from CSV/TSV or JSONL; without --id the header names the fields')
    .argument('<file>')
    .option('--id <col>', 'item id column', parseColumn)
    .option('--title <col>', 'title column', parseColumn)
    .option('--text <col>', 'description column', parseColumn)
    .option('--categories <col>', 'categories column', parseColumn)
    .option('--category-separator <sep>', 'between categories in one cell', '|')
    .option('--tags <col>', 'tags column', parseColumn)
    .option('--tag-separator <sep>', 'between tags in one cell', '|')
    .option('--available <col>', 'availability column (true/false, 1/0, yes/no)', parseColumn)
    .option('--published-at <col>', 'publication time column', parseColumn)
    .option('--attributes <cols>', 'attribute columns: col,col or name=col,name=col', parseAttributes)
    .action(
      async (
        file: string,
        flags: FileFlags & {
          id?: Column;
          title?: Column;
          text?: Column;
          categories?: Column;
          categorySeparator: string;
          tags?: Column;
          tagSeparator: string;
          available?: Column;
          publishedAt?: Column;
          attributes?: AttributeColumns;
        },
      ) => {
        const mapping: ItemMapping | undefined =
          flags.id !== undefined
            ? {
                id: flags.id,
                title: flags.title,
                text: flags.text,
                categories: flags.categories,
                categorySeparator: flags.categorySeparator,
                tags: flags.tags,
                tagSeparator: flags.tagSeparator,
                available: flags.available,
                publishedAt: flags.publishedAt,
                attributes: flags.attributes,
              }
            : undefined;
        await withStore(flags, async (store) => {
          const r = isJsonl(file, flags)
            ? await importItemsJsonl(store, file, mapping, {
                batchSize: flags.batchSize,
                progress: progressOf(flags),
              })
            : await importItemsFile(store, file, mapping, delimitedOptions(file, flags, progressOf(flags)));
          printReport('items', r);
        });
      },
    );
}

function usersCommand(): Command {
  return fileOptions(new Command('users'))
    .description('import users from CSV/TSV or JSONL; without --id the header names the fields')
    .argument('<file>')
    .option('--id <col>', 'user id column', parseColumn)
    .option('--attributes <cols>', 'attribute columns: col,col or name=col,name=col', parseAttributes)
    .action(async (file: string, flags: FileFlags & { id?: Column; attributes?: AttributeColumns }) => {
      const mapping: UserMapping | undefined =
        flags.id !== undefined ? { id: flags.id, attributes: flags.attributes } : undefined;
      await withStore(flags, async (store) => {
        const r = isJsonl(file, flags)
          ? await importUsersJsonl(store, file, mapping, {
              batchSize: flags.batchSize,
              progress: progressOf(flags),
            })
          : await importUsersFile(store, file, mapping, delimitedOptions(file, flags, progressOf(flags)));
        printReport('users', r);
      });
    });
}

export function importCommand(): Command {
  return new Command('import')
    .description('bulk import users, items and events from files')
    .addCommand(movielensCommand())
    .addCommand(eventsCommand())
    .addCommand(itemsCommand())
    .addCommand(usersCommand());
}
