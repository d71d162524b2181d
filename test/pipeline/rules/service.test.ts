import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/domain/errors.js';
import {
  applyRules,
  FileRuleRepository,
  InMemoryRuleRepository,
  RuleService,
  type RuleRepository,
} from '../../../src/pipeline/rules/index.js';

const T0 = Date.parse('2025-06-15T12:00:00Z');

function clock(): () => number {
  let t = T0;
  return () => (t += 1000);
}

const boost = {
  id: 'boost-sale',
  placement: 'home',
  action: 'boost',
  where: 'item.tags contains "sale"',
  enabled: true,
};
const filter = {
  id: 'no-adult',
  placement: 'home',
  action: 'filter',
  where: 'item.tags contains "adult"',
  enabled: true,
};

const dir = mkdtempSync(path.join(tmpdir(), 'kindred-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const repositories: [string, () => RuleRepository][] = [
  ['in memory', () => new InMemoryRuleRepository()],
  ['file', () => new FileRuleRepository(path.join(mkdtempSync(path.join(dir, 'r-')), 'rules.json'))],
];

describe.each(repositories)('RuleService on the %s repository', (_name, make) => {
  it('makes a new version for every edit and keeps the history', async () => {
    const service = new RuleService(make(), { clock: clock() });
    expect(await service.latest('home')).toBeUndefined();
    const v1 = await service.replace('home', [boost], { comment: 'first', author: 'ana' });
    expect(v1.version).toBe(1);
    expect(v1.createdAt).toBe('2025-06-15T12:00:01.000Z');
    const v2 = await service.upsertRule('home', filter);
    expect(v2.version).toBe(2);
    expect(v2.rules.map((r) => r.id)).toEqual(['boost-sale', 'no-adult']);
    const v3 = await service.upsertRule('home', { ...boost, weight: 5 });
    expect(v3.rules.map((r) => [r.id, r.weight])).toEqual([
      ['boost-sale', 5],
      ['no-adult', undefined],
    ]);
    const v4 = await service.removeRule('home', 'boost-sale');
    expect(v4.rules.map((r) => r.id)).toEqual(['no-adult']);

    const history = await service.history('home');
    expect(history.map((h) => [h.version, h.ruleCount])).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 1],
    ]);
    expect(history[0]).toMatchObject({ comment: 'first', author: 'ana' });
    expect((await service.version('home', 2)).rules.map((r) => r.id)).toEqual(['boost-sale', 'no-adult']);
    expect(await service.placements()).toEqual(['home']);
  });

  it('rolls back by storing an older version as the newest', async () => {
    const service = new RuleService(make(), { clock: clock() });
    await service.replace('home', [boost]);
    await service.replace('home', [filter]);
    const v3 = await service.rollback('home', 1, { comment: 'undo' });
    expect(v3).toMatchObject({ version: 3, restoredFrom: 1, comment: 'undo' });
    expect(v3.rules).toEqual([boost]);
    expect((await service.latest('home'))?.rules).toEqual([boost]);
    expect((await service.history('home')).map((h) => h.version)).toEqual([1, 2, 3]);
    await expect(service.rollback('home', 9)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('refuses stale edits and invalid rules without storing anything', async () => {
    const service = new RuleService(make(), { clock: clock() });
    await service.replace('home', [boost], { expectedVersion: 0 });
    await expect(service.replace('home', [filter], { expectedVersion: 0 })).rejects.toBeInstanceOf(
      ConflictError,
    );
    await expect(service.replace('home', [{ ...boost, where: 'item.price <' }])).rejects.toMatchObject({
      details: [{ field: 'rules/0/where', message: expect.stringMatching(/^expected a value/) }],
    });
    await expect(service.upsertRule('home', { ...boost, placement: 'pdp' })).rejects.toBeInstanceOf(
      ValidationError,
    );
    await expect(service.replace('bad placement!', [])).rejects.toMatchObject({
      details: [{ field: 'placement' }],
    });
    await expect(service.removeRule('home', 'nope')).rejects.toBeInstanceOf(NotFoundError);
    expect((await service.history('home')).length).toBe(1);
  });

  it('serves compiled rules of the placement and of *, following new versions', async () => {
    const service = new RuleService(make(), { clock: clock() });
    expect(await service.rulesFor('home')).toEqual([]);
    await service.replace('*', [{ ...filter, placement: '*' }]);
    await service.replace('home', [boost]);
    const first = await service.rulesFor('home');
    expect(first.map((r) => [r.rule.id, r.order])).toEqual([
      ['no-adult', 0],
      ['boost-sale', 1],
    ]);
    expect(await service.rulesFor('home')).toEqual(first);
    const items: Record<string, string[]> = { a: ['adult'], b: [], c: ['sale'] };
    const list = [
      { itemId: 'a', score: 3 },
      { itemId: 'b', score: 2 },
      { itemId: 'c', score: 1.5 },
    ];
    const out = applyRules(list, {
      rules: first,
      item: (c) => ({ tags: items[c.itemId] }),
      context: { placement: 'home', now: T0 },
    });
    expect(out.candidates.map((c) => c.itemId)).toEqual(['c', 'b']);

    await service.removeRule('home', 'boost-sale');
    expect((await service.rulesFor('home')).map((r) => r.rule.id)).toEqual(['no-adult']);
    expect((await service.rulesFor('pdp')).map((r) => r.rule.id)).toEqual(['no-adult']);
  });
});

describe('FileRuleRepository', () => {
  it('writes atomically and reads the history back in a new instance', async () => {
    const folder = mkdtempSync(path.join(dir, 'f-'));
    const file = path.join(folder, 'rules.json');
    const service = new RuleService(new FileRuleRepository(file), { clock: clock() });
    await service.replace('home', [boost]);
    await service.replace('home', [boost, filter]);
    expect(readdirSync(folder)).toEqual(['rules.json']);
    const data = JSON.parse(readFileSync(file, 'utf8')) as { format: string };
    expect(data.format).toBe('kindred-rules');

    const reopened = new RuleService(new FileRuleRepository(file));
    expect((await reopened.history('home')).map((h) => h.version)).toEqual([1, 2]);
    expect((await reopened.latest('home'))?.rules).toEqual([boost, filter]);
    const v3 = await reopened.rollback('home', 1);
    expect(v3.version).toBe(3);
    expect((await new FileRuleRepository(file).latest('home'))?.version).toBe(3);
  });

  it('sees what another process wrote to the same file, and builds on it', async () => {
    const file = path.join(mkdtempSync(path.join(dir, 'h-')), 'rules.json');
    const mine = new RuleService(new FileRuleRepository(file), { clock: clock() });
    const theirs = new RuleService(new FileRuleRepository(file), { clock: clock() });
    await mine.replace('home', [boost]);
    expect((await theirs.latest('home'))?.version).toBe(1);
    await theirs.replace('home', [boost, filter]);
    expect((await mine.latest('home'))?.rules).toEqual([boost, filter]);
    // A write after the other's builds on it instead of overwriting it.
    expect((await mine.replace('home', [filter])).version).toBe(3);
    expect((await theirs.history('home')).map((h) => h.version)).toEqual([1, 2, 3]);
  });

  it('refuses a file that is not a rules file', async () => {
    const file = path.join(mkdtempSync(path.join(dir, 'g-')), 'rules.json');
    writeFileSync(file, '{"hello": 1}');
    await expect(new FileRuleRepository(file).placements()).rejects.toThrow(/not a Kindred rules file/);
  });
});
