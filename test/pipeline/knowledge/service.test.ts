import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConflictError, NotFoundError, ValidationError } from '../../../src/domain/errors.js';
import { KnowledgeService } from '../../../src/pipeline/knowledge/index.js';
import { InMemoryRuleRepository, type RuleRepository } from '../../../src/pipeline/rules/index.js';

const T0 = Date.parse('2026-01-15T12:00:00Z');
function clock(): () => number {
  let t = T0;
  return () => (t += 1000);
}

const team = {
  id: 'team-plan',
  when: 'user.plan == "free" and user.seats > 5',
  recommend: { items: ['plan-team'] },
  reason: 'Your team fits the Team plan',
};
const socket = {
  id: 'socket',
  constraints: 'item.socket == null or item.socket == user.socket',
  reason: 'Fits your board',
};

const dir = mkdtempSync(path.join(tmpdir(), 'kindred-knowledge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const repositories: [string, () => { repo?: RuleRepository; file?: string }][] = [
  ['in memory', () => ({ repo: new InMemoryRuleRepository() })],
  ['file', () => ({ file: path.join(mkdtempSync(path.join(dir, 'k-')), 'knowledge.json') })],
];

function open(where: { repo?: RuleRepository; file?: string }): KnowledgeService {
  return where.file
    ? KnowledgeService.inFile(where.file, { clock: clock() })
    : new KnowledgeService(where.repo!, { clock: clock() });
}

describe.each(repositories)('KnowledgeService on the %s repository', (_name, make) => {
  it('makes a version per edit, keeps the history and rolls back as a new version', async () => {
    const where = make();
    const service = open(where);
    expect(await service.latest('home')).toBeUndefined();
    const v1 = await service.replace('home', [team], { comment: 'first', author: 'ana' });
    expect(v1).toMatchObject({ placement: 'home', version: 1, comment: 'first', author: 'ana' });
    expect(v1.createdAt).toBe('2026-01-15T12:00:01.000Z');
    const v2 = await service.upsertRule('home', socket);
    expect(v2.rules.map((r) => r.id)).toEqual(['team-plan', 'socket']);
    const v3 = await service.upsertRule('home', { ...team, reason: 'Upgrade' });
    expect(v3.rules.map((r) => [r.id, r.reason])).toEqual([
      ['team-plan', 'Upgrade'],
      ['socket', 'Fits your board'],
    ]);
    const v4 = await service.removeRule('home', 'team-plan');
    expect(v4.rules.map((r) => r.id)).toEqual(['socket']);
    const v5 = await service.rollback('home', 1);
    expect(v5).toMatchObject({ version: 5, restoredFrom: 1 });
    expect(v5.rules).toEqual([team]);
    expect((await service.history('home')).map((h) => [h.version, h.ruleCount])).toEqual([
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 1],
      [5, 1],
    ]);
    expect((await service.version('home', 2)).rules.map((r) => r.id)).toEqual(['team-plan', 'socket']);
    await expect(service.version('home', 9)).rejects.toBeInstanceOf(NotFoundError);
    await expect(service.removeRule('home', 'nope')).rejects.toBeInstanceOf(NotFoundError);

    // A stale edit is refused instead of overwriting.
    await expect(service.replace('home', [], { expectedVersion: 3 })).rejects.toBeInstanceOf(ConflictError);

    if (where.file) {
      const reopened = KnowledgeService.inFile(where.file);
      expect((await reopened.latest('home'))?.version).toBe(5);
      expect((await reopened.rulesFor('home')).map((r) => r.rule.id)).toEqual(['team-plan']);
    }
  });

  it('refuses invalid rules, naming the field, and stores nothing', async () => {
    const service = open(make());
    const err = await service
      .replace('home', [team, { ...socket, constraints: 'item.socket ==' }])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details.map((d) => d.field)).toEqual(['rules/1/constraints']);
    const dup = await service.replace('home', [team, team]).catch((e: unknown) => e);
    expect((dup as ValidationError).details.map((d) => d.field)).toEqual(['rules/1/id']);
    const one = await service
      .upsertRule('home', { ...team, when: 'item.price > 1' })
      .catch((e: unknown) => e);
    expect((one as ValidationError).details.map((d) => d.field)).toEqual(['when']);
    const bad = await service.replace('no spaces', [team]).catch((e: unknown) => e);
    expect((bad as ValidationError).details.map((d) => d.field)).toEqual(['placement']);
    expect(await service.latest('home')).toBeUndefined();
  });

  it("compiles a placement's rules with the '*' rules, in priority order, for requests", async () => {
    const service = open(make());
    await service.replace('*', [socket]);
    await service.replace('home', [{ ...team, priority: 2 }]);
    expect((await service.rulesFor('home')).map((r) => r.rule.id)).toEqual(['team-plan', 'socket']);
    expect((await service.rulesFor('email')).map((r) => r.rule.id)).toEqual(['socket']);
    expect(service.compiled('home')).toEqual([]);
    await service.refresh();
    expect(service.compiled('home').map((r) => r.rule.id)).toEqual(['team-plan', 'socket']);
    expect(service.compiled('email').map((r) => r.rule.id)).toEqual(['socket']);
    // Compiled once per version: the same objects until an edit.
    const before = await service.rulesFor('home');
    expect(await service.rulesFor('home')).toBe(before);
    await service.upsertRule('*', { ...socket, reason: 'Fits' });
    expect(await service.rulesFor('home')).not.toBe(before);
  });
});
