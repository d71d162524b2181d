import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import {
  DEFAULT_EVENT_TYPES,
  type EventType,
  type Item,
  type JsonObject,
} from '../../../src/domain/types.js';
import { buildCatalog, type Catalog } from '../../../src/pipeline/catalog.js';
import { AvailabilityFilter } from '../../../src/pipeline/filters/availability.js';
import {
  checkKnowledgeRule,
  compileKnowledgeRules,
  ConstraintFilter,
  KnowledgeSource,
  type CompiledKnowledgeRule,
} from '../../../src/pipeline/knowledge/index.js';
import { Pipeline, type PipelineResult } from '../../../src/pipeline/pipeline.js';
import { BlendRanker } from '../../../src/pipeline/ranking/blend-ranker.js';
import { requestContext } from '../../../src/pipeline/request-context.js';
import { RankedListSource } from '../../../src/pipeline/sources/ranked-list-source.js';
import type { CandidateSource } from '../../../src/pipeline/types.js';

const NOW = Date.UTC(2026, 0, 15);
const types = new Map<string, EventType>(DEFAULT_EVENT_TYPES.map((t) => [t.name, t]));

function item(id: string, category: string, attributes: JsonObject, title = id): Item {
  return {
    id,
    title,
    text: null,
    categories: [category],
    tags: [],
    attributes,
    available: true,
    publishedAt: NOW - 86_400_000,
    createdAt: NOW - 86_400_000,
    updatedAt: NOW,
  };
}

/** A small hardware and software shop: plans, CPUs and boards of two sockets, coolers without one. */
const ITEMS: Item[] = [
  item('plan-free', 'plans', { price: 0 }, 'Free plan'),
  item('plan-pro', 'plans', { price: 10 }, 'Pro plan'),
  item('plan-team', 'plans', { price: 40 }, 'Team plan'),
  item('cpu-a1', 'cpu', { socket: 'AM5', price: 300 }),
  item('cpu-a2', 'cpu', { socket: 'AM5', price: 150 }),
  item('cpu-i1', 'cpu', { socket: 'LGA1700', price: 320 }),
  item('cpu-i2', 'cpu', { socket: 'LGA1700', price: 90 }),
  item('board-a', 'boards', { socket: 'AM5', price: 180 }),
  item('board-i', 'boards', { socket: 'LGA1700', price: 170 }),
  item('cooler', 'cooling', { price: 60 }),
];
const ids = ITEMS.map((i) => i.id);

/** A list source over items given best first. */
function list(name: string, order: string[], catalog: Catalog): RankedListSource {
  return new RankedListSource(name, {
    items: Int32Array.from(order.map((id) => catalog.indexOf.get(id)!)),
    scores: Float32Array.from(order.map((_, r) => order.length - r)),
  });
}

function pipeline(
  catalog: Catalog,
  rules: readonly CompiledKnowledgeRule[],
  extra: CandidateSource[] = [],
): Pipeline {
  const knowledge = new KnowledgeSource(catalog, () => rules);
  const sources = [
    knowledge,
    list('popular', ['cpu-i1', 'board-i', 'cpu-a1', 'cooler', 'plan-pro', 'cpu-i2', 'board-a'], catalog),
    ...extra,
  ];
  return new Pipeline(catalog, {
    placement: 'home',
    sources: sources.map((source) => ({ source, limit: 50 })),
    filters: [new AvailabilityFilter(catalog), new ConstraintFilter(catalog, () => rules)],
    ranker: new BlendRanker(catalog, { sources: sources.map((s) => s.name), weights: { knowledge: 2 } }),
  });
}

function run(p: Pipeline, catalog: Catalog, user: Record<string, unknown>, k = 10): PipelineResult {
  const ctx = requestContext(catalog, [], types, {
    userId: 'u',
    placement: 'home',
    k,
    user,
    now: NOW,
    debug: true,
  });
  return p.run(ctx);
}

describe('knowledge rules as a candidate source', () => {
  const catalog = buildCatalog(ids, ITEMS);
  const rules = compileKnowledgeRules([
    {
      id: 'team-plan',
      when: 'user.plan == "free" and user.seats > 5',
      recommend: { items: ['plan-team'] },
      reason: 'Your {user.seats} seats fit the {item.title}',
    },
  ]);

  it('recommends the team plan to a free plan with more than 5 seats, with the rule reason', () => {
    const r = run(pipeline(catalog, rules), catalog, { plan: 'free', seats: 8 });
    const team = r.items.find((i) => i.itemId === 'plan-team');
    expect(team).toBeDefined();
    expect(team!.sources).toContain('knowledge');
    expect(team!.explanations[0]).toEqual({
      kind: 'knowledge',
      text: 'Your 8 seats fit the Team plan',
      itemId: 'plan-team',
    });
    expect(r.contributed.knowledge).toBe(1);
  });

  it('stays quiet when the condition does not hold', () => {
    for (const user of [{ plan: 'free', seats: 3 }, { plan: 'pro', seats: 9 }, {}]) {
      const r = run(pipeline(catalog, rules), catalog, user);
      expect(r.contributed.knowledge).toBe(0);
      expect(r.items.map((i) => i.itemId)).not.toContain('plan-team');
    }
  });

  it('proposes the items a where condition matches, by the given order, with the reason', () => {
    const where = compileKnowledgeRules([
      {
        id: 'cheap-cpus',
        when: 'context.page == "deals"',
        recommend: { where: 'item.category == "cpu" and item.price < 200', limit: 5 },
        reason: '{item.title} costs only {item.price}',
      },
    ]);
    const src = new KnowledgeSource(catalog, () => where);
    const ctx = requestContext(catalog, [], types, {
      userId: 'u',
      placement: 'home',
      k: 10,
      context: { page: 'deals' },
      now: NOW,
    });
    const got: [string, number][] = [];
    src.generate(ctx, 10, (i, s) => got.push([ids[i], s]));
    expect(got).toEqual([
      ['cpu-a2', 1],
      ['cpu-i2', 0.5],
    ]);
    const names = { itemId: (i: number) => ids[i], title: (i: number) => ids[i], category: () => null };
    expect(src.explain(ctx, catalog.indexOf.get('cpu-i2')!, names)?.text).toBe('cpu-i2 costs only 90');
    const elsewhere = requestContext(catalog, [], types, { userId: 'u', placement: 'home', k: 10, now: NOW });
    expect(src.generate(elsewhere, 10, () => undefined)).toBe(0);
  });
});

describe('knowledge constraints as a filter', () => {
  const catalog = buildCatalog(ids, ITEMS);

  it('removes items incompatible with the user, whichever source proposed them', () => {
    const rules = compileKnowledgeRules([
      {
        id: 'socket',
        when: 'exists(user.socket)',
        constraints: 'item.socket == null or item.socket == user.socket',
        reason: 'Fits your {user.socket} board',
      },
      {
        id: 'cpus-for-board',
        when: 'exists(user.socket)',
        recommend: { where: 'item.category == "cpu"' },
        reason: 'A CPU for your board',
      },
    ]);
    const fresh = list('fresh', ['cpu-i2', 'board-i', 'cpu-a2', 'board-a'], catalog);
    const p = pipeline(catalog, rules, [fresh]);
    const r = run(p, catalog, { socket: 'AM5' });
    const shown = r.items.map((i) => i.itemId);
    // Every LGA1700 part was proposed (by knowledge, popular and fresh) and removed.
    expect(r.contributed.knowledge).toBe(4);
    expect(shown.filter((id) => ITEMS.find((i) => i.id === id)!.attributes.socket === 'LGA1700')).toEqual([]);
    expect(shown).toEqual(expect.arrayContaining(['cpu-a1', 'cpu-a2', 'board-a', 'cooler']));
    const filters = r.trace.find((t) => t.stage === 'filters')!.detail!;
    expect(filters['knowledge-constraints']).toBe(3); // cpu-i1, cpu-i2, board-i
    const filter = new ConstraintFilter(catalog, () => rules);
    const ctx = requestContext(catalog, [], types, {
      userId: 'u',
      placement: 'home',
      k: 10,
      user: { socket: 'AM5' },
      now: NOW,
    });
    expect(filter.broken(ctx, catalog.indexOf.get('cpu-i1')!)).toEqual(['socket']);
    // A user who did not say a socket sees everything.
    const all = run(p, catalog, {}).items.map((i) => i.itemId);
    expect(all).toEqual(expect.arrayContaining(['cpu-i1', 'board-i']));
  });

  it('keeps only items within the user price range', () => {
    const rules = compileKnowledgeRules([
      {
        id: 'budget',
        when: 'exists(user.budget)',
        constraints: 'item.price >= user.minPrice and item.price <= user.budget',
        reason: 'Within your budget',
      },
    ]);
    const p = pipeline(catalog, rules);
    const r = run(p, catalog, { minPrice: 100, budget: 200 });
    const prices = r.items.map((i) => ITEMS.find((x) => x.id === i.itemId)!.attributes.price as number);
    expect(r.items.map((i) => i.itemId).sort()).toEqual(['board-a', 'board-i']);
    expect(prices.every((x) => x >= 100 && x <= 200)).toBe(true);
    // Without a budget the rule does not apply.
    expect(run(p, catalog, {}).items.length).toBe(7);
  });

  it('ignores rules that are switched off', () => {
    const rules = compileKnowledgeRules([
      { id: 'off', enabled: false, constraints: 'item.price < 1', reason: 'x' },
      { id: 'team', enabled: false, recommend: { items: ['plan-team'] }, reason: 'x' },
    ]);
    const r = run(pipeline(catalog, rules), catalog, {});
    expect(r.items.length).toBe(7);
    expect(r.contributed.knowledge).toBe(0);
  });
});

describe('knowledge rule validation', () => {
  const base = { id: 'r1', recommend: { items: ['a'] }, reason: 'because' };

  function fields(input: unknown): string[] {
    const r = checkKnowledgeRule(input);
    return r.ok ? [] : r.errors.map((e) => e.field);
  }

  it('accepts a well-formed rule and orders rules by priority', () => {
    expect(fields(base)).toEqual([]);
    const rules = compileKnowledgeRules([
      { ...base, id: 'low' },
      { ...base, id: 'high', priority: 5 },
      { ...base, id: 'low2' },
    ]);
    expect(rules.map((r) => r.rule.id)).toEqual(['high', 'low', 'low2']);
  });

  it('names the offending field', () => {
    expect(fields({ ...base, when: 'user.plan == ' })).toEqual(['when']);
    expect(fields({ ...base, when: 'item.price > 3' })).toEqual(['when']);
    expect(fields({ ...base, recommend: { where: 'item.price >' } })).toEqual(['recommend/where']);
    expect(fields({ ...base, recommend: { items: [] } })).toEqual(['recommend/items']);
    expect(fields({ ...base, recommend: {} })).toEqual(['recommend']);
    expect(fields({ ...base, recommend: { items: ['a'], colour: 1 } })).toEqual(['recommend/colour']);
    expect(fields({ ...base, constraints: 'item.socket ==' })).toEqual(['constraints']);
    expect(fields({ ...base, reason: 'Fits {user.socket' })).toEqual([]); // no closing brace: plain text
    expect(fields({ ...base, reason: 'Fits {user.}' })).toEqual(['reason']);
    expect(fields({ ...base, reason: undefined })).toEqual(['reason']);
    expect(fields({ ...base, colour: 'red' })).toEqual(['colour']);
    expect(fields({ id: 'x', reason: 'r' })).toEqual(['recommend']);
    expect(fields('rule')).toEqual(['(rule)']);
    const r = checkKnowledgeRule({ ...base, reason: 'Hi {user.}' });
    expect(!r.ok && r.errors[0].message).toMatch(/placeholder \{user\.\}/);
  });

  it('reports errors of a list with the rule index and refuses duplicate ids', () => {
    try {
      compileKnowledgeRules([base, { ...base, recommend: { where: '(' } }, base]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).details.map((d) => d.field)).toEqual(['rules/1/recommend/where']);
    }
  });
});
