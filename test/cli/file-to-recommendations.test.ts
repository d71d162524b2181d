import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/program.js';
import { Rng } from '../../src/ingest/prng.js';

let dir: string;
const owned = new Map<string, Set<string>>();

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kindred-file-recs-'));
  // Pipe-separated, no header, ids only in columns 2 and 0 with a value column between.
  const rng = new Rng(11);
  const lines: string[] = [];
  for (let u = 0; u < 40; u++) {
    const block = u % 2;
    const mine = new Set<string>();
    while (mine.size < 8) mine.add(`sku-${block * 30 + Math.floor(rng.next() * 30)}`);
    owned.set(`c${u}`, mine);
    for (const item of mine) lines.push(`${item}|${1 + Math.floor(rng.next() * 3)}|c${u}`);
  }
  writeFileSync(path.join(dir, 'orders.txt'), lines.join('\n') + '\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

describe('any interaction file to recommendations', () => {
  it('imports with a column mapping, trains a named model and writes every user top K without owned items', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const d = ['--data-dir', path.join(dir, 'data')];
    const file = path.join(dir, 'orders.txt');
    expect(
      await run([
        'import',
        'events',
        file,
        ...d,
        '--delimiter',
        '|',
        '--no-header',
        '--item',
        '0',
        '--value',
        '1',
        '--user',
        '2',
        '--default-type',
        'purchase',
        '-q',
      ]),
    ).toBe(0);
    expect(await run(['train', ...d, '--models', 'popularity,ease', '--param', 'ease.lambda=50'])).toBe(0);
    const out = path.join(dir, 'recs.csv');
    expect(await run(['recommend', ...d, '--model', 'ease', '--k', '5', '--out', out])).toBe(0);

    const rows = readFileSync(out, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('user,item,rank,score');
    const byUser = new Map<string, string[]>();
    for (const row of rows.slice(1)) {
      const [user, item, rank] = row.split(',');
      const list = byUser.get(user) ?? [];
      expect(Number(rank)).toBe(list.length + 1);
      list.push(item);
      byUser.set(user, list);
    }
    expect(byUser.size).toBe(40);
    let sameBlock = 0;
    for (const [user, items] of byUser) {
      expect(items).toHaveLength(5);
      for (const item of items) expect(owned.get(user)!.has(item)).toBe(false);
      const block = Number(user.slice(1)) % 2;
      sameBlock += items.filter((i) => Math.floor(Number(i.slice(4)) / 30) === block).length;
    }
    // EASE recommends from the user's own block, which popularity alone could not.
    expect(sameBlock / 200).toBeGreaterThan(0.9);
  });

  it('precomputes every user list through a placement pipeline, with explanations', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const d = ['--data-dir', path.join(dir, 'data')];
    const out = path.join(dir, 'home.jsonl');
    expect(
      await run(['recommend', ...d, '--placement', 'home', '--format', 'jsonl', '--k', '4', '--out', out]),
    ).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(40);
    for (const line of lines) {
      const rec = JSON.parse(line) as { user: string; items: { itemId: string; explanations: unknown[] }[] };
      expect(rec.items).toHaveLength(4);
      for (const it of rec.items) {
        expect(owned.get(rec.user)!.has(it.itemId)).toBe(false);
        expect(it.explanations.length).toBeGreaterThan(0);
      }
    }
  });

  it('names a model that was never trained', async () => {
    const errors: string[] = [];
    vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    const d = ['--data-dir', path.join(dir, 'data')];
    expect(await run(['recommend', ...d, '--model', 'bpr', '--k', '5'])).toBe(1);
    expect(errors.join('\n')).toContain("model 'bpr' has no trained version");
  });
});
