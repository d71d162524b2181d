import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi, type MockInstance } from 'vitest';
import { collectParam } from '../../src/cli/common.js';
import { parseAttributes, parseColumn } from '../../src/cli/import.js';
import { csvField } from '../../src/cli/recommend.js';
import { run } from '../../src/cli/program.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

let dir: string;
let out: MockInstance;
let err: MockInstance;
let written: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindred-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(): void {
  written = '';
  const sink = (chunk: unknown) => {
    written += typeof chunk === 'string' ? chunk : String(chunk);
    return true;
  };
  out = vi.spyOn(process.stdout, 'write').mockImplementation(sink);
  err = vi.spyOn(process.stderr, 'write').mockImplementation(sink);
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => sink(`${a.join(' ')}\n`));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => sink(`${a.join(' ')}\n`));
}
afterEach(() => vi.restoreAllMocks());

describe('kindred --help', () => {
  it.each(['serve', 'import', 'train', 'recommend', 'demo'])(
    '%s --help describes the command',
    async (cmd) => {
      capture();
      expect(await run([cmd, '--help'])).toBe(0);
      expect(written).toContain(`Usage: kindred ${cmd}`);
      expect(out).toHaveBeenCalled();
    },
  );

  it('names an unknown option and fails', async () => {
    capture();
    expect(await run(['train', '--colour', 'red'])).not.toBe(0);
    expect(written).toContain("unknown option '--colour'");
    expect(err).toHaveBeenCalled();
  });

  it('refuses a bad --k with the flag named', async () => {
    capture();
    expect(await run(['recommend', '--k', 'zero', '--data-dir', dir])).not.toBe(0);
    expect(written).toContain('--k must be a positive integer');
  });
});

describe('argument parsing', () => {
  it('reads columns by position or name', () => {
    expect(parseColumn('0')).toBe(0);
    expect(parseColumn('user_id')).toBe('user_id');
    expect(parseAttributes('price,brand')).toEqual(['price', 'brand']);
    expect(parseAttributes('price=3,brand=maker')).toEqual({ price: 3, brand: 'maker' });
  });

  it('reads model parameters', () => {
    let acc = collectParam('item-knn.neighbours=50');
    acc = collectParam('item-knn.normalize=true', acc);
    acc = collectParam('trending.halfLife=1d', acc);
    expect(acc).toEqual({ 'item-knn': { neighbours: 50, normalize: true }, trending: { halfLife: '1d' } });
    expect(() => collectParam('neighbours')).toThrow(/model.name=value/);
  });

  it('quotes CSV fields only where needed', () => {
    expect(csvField('abc')).toBe('abc');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
  });
});

describe('kindred import events', () => {
  it('imports a mapped CSV and reports each bad line by number', async () => {
    const file = path.join(dir, 'clicks.csv');
    writeFileSync(
      file,
      [
        'ts,who,sku,action',
        '1700000000,alice,sku-1,click',
        '1700000060,bob,sku-2,purchase',
        '1700000120,,sku-3,click',
        '1700000180,carol,sku-1,teleport',
        'yesterday,dave,sku-4,view',
        '1700000240,erin,"sku,5",view',
      ].join('\n') + '\n',
    );
    capture();
    const code = await run([
      'import',
      'events',
      file,
      '--data-dir',
      dir,
      '-q',
      '--user',
      'who',
      '--item',
      'sku',
      '--type',
      'action',
      '--time',
      'ts',
      '--time-unit',
      's',
    ]);
    expect(code).toBe(0);
    expect(written).toMatch(/6 rows read, 3 imported, 0 duplicates, 3 bad/);
    expect(written).toMatch(/line 4: user/);
    expect(written).toMatch(/line 5: type/);
    expect(written).toMatch(/line 6: timestamp/);

    const store = new SqliteStore(path.join(dir, 'kindred.db'));
    await store.init();
    const events = (await store.listEvents()).rows;
    await store.close();
    expect(events.map((e) => [e.userId, e.itemId, e.type, e.timestamp])).toEqual([
      ['alice', 'sku-1', 'click', 1_700_000_000_000],
      ['bob', 'sku-2', 'purchase', 1_700_000_060_000],
      ['erin', 'sku,5', 'view', 1_700_000_240_000],
    ]);
  });

  it('fails with a message when the file does not exist', async () => {
    capture();
    expect(await run(['import', 'events', path.join(dir, 'nope.csv'), '--data-dir', dir])).toBe(1);
    expect(written).toMatch(/kindred: .*nope\.csv/);
  });
});
