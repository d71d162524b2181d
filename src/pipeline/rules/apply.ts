/**
 * Applies a placement's business rules to a scored candidate list:
 *
 * 1. Rules that are disabled, outside their `startsAt`/`endsAt` window, or whose `when` is false
 *    for this request do nothing (the trace says why).
 * 2. `filter` rules remove every item their `where` matches, whatever its score.
 * 3. `boost` and `bury` rules change the scores of the items they match, in priority order;
 *    when a score changed, the list is then sorted by score, highest first (ties keep their
 *    input order); otherwise the input order is kept.
 * 4. `pin` rules, highest priority first, each take the best-scored matching item not pinned
 *    already and put it at their slot. A slot taken by a higher-priority pin moves the pin to the
 *    next free slot; a slot beyond the end of the list puts the item last.
 */
import type { CompiledExpression, ExprEnv, ExprItem, ExprUser } from './expr/compile.js';
import { ANY_PLACEMENT, type CheckedRule, type Rule } from './schema.js';

/** A rule ready to run: checked, compiled, and its position in its rule set. */
export interface CompiledRule extends CheckedRule {
  /** Position among the rules passed together; breaks priority ties (earlier first). */
  order: number;
}

/** What the rules need of a candidate. Other fields are carried through untouched. */
export interface ScoredCandidate {
  itemId: string;
  score: number;
}

export interface RuleRequestContext {
  placement: string;
  /** Request time, epoch ms: decides campaign windows and is `now` in expressions. */
  now: number;
  /** Free request attributes (device, page, ...), read as `context.<name>`. */
  attributes?: Readonly<Record<string, unknown>>;
}

export interface ApplyRulesContext<C extends ScoredCandidate> {
  rules: readonly CompiledRule[];
  /** The item of a candidate (the store's `Item` fits); null or undefined when unknown. */
  item: (candidate: C, index: number) => ExprItem | null | undefined;
  user?: ExprUser | null;
  context: RuleRequestContext;
  /** Record what each rule did (default true). */
  trace?: boolean;
}

export type SkipReason = 'disabled' | 'not-started' | 'ended' | 'when-false' | 'no-match';

export type RuleTraceEntry =
  | { ruleId: string; action: 'filter'; itemId: string }
  | { ruleId: string; action: 'boost' | 'bury'; itemId: string; scoreBefore: number; scoreAfter: number }
  | {
      ruleId: string;
      action: 'pin';
      itemId: string;
      /** Requested slot. */
      slot: number;
      /** Final 1-based position. */
      position: number;
    }
  | { ruleId: string; action: 'skip'; reason: SkipReason };

export interface RulesOutcome<C extends ScoredCandidate> {
  /** The surviving candidates in their final order; a candidate whose score changed is a copy. */
  candidates: C[];
  trace: RuleTraceEntry[];
}

const NOT_PINNED = -2;
const BEYOND = -1;

function byPriority(a: CompiledRule, b: CompiledRule): number {
  return (b.rule.priority ?? 0) - (a.rule.priority ?? 0) || a.order - b.order;
}

/** Why a rule does nothing for this request, or null when it is active. */
function inactiveReason(r: CompiledRule, now: number, env: ExprEnv): SkipReason | null {
  if (!r.rule.enabled) return 'disabled';
  if (r.startsAt !== null && now < r.startsAt) return 'not-started';
  if (r.endsAt !== null && now >= r.endsAt) return 'ended';
  if (r.when !== null && !r.when.test(env)) return 'when-false';
  return null;
}

function adjust(rule: Rule, score: number): number {
  const boost = rule.action === 'boost';
  if (rule.weightMode === 'add') {
    const w = rule.weight ?? 0;
    return boost ? score + w : score - w;
  }
  const w = rule.weight ?? 2;
  // Scores may be negative: dividing a negative score moves it up, as multiplying a positive one does.
  return boost === score >= 0 ? score * w : score / w;
}

/**
 * `alive` (ascending indices) ordered by score, highest first, ties by index. When the scores of
 * the unchanged candidates are already in order (the usual case: a scorer's ranked list), only the
 * re-scored ones are sorted and merged in.
 */
function sortByScore(alive: number[], scores: Float64Array, changed: Uint8Array): number[] {
  for (const i of alive) if (Number.isNaN(scores[i])) scores[i] = -Infinity;
  const before = (a: number, b: number): boolean =>
    scores[a] > scores[b] || (scores[a] === scores[b] && a < b);
  const kept: number[] = [];
  const moved: number[] = [];
  let ordered = true;
  for (const i of alive) {
    if (changed[i] === 1) moved.push(i);
    else {
      if (kept.length > 0 && scores[i] > scores[kept[kept.length - 1]]) ordered = false;
      kept.push(i);
    }
  }
  const byScore = (a: number, b: number): number => scores[b] - scores[a] || a - b;
  if (!ordered) return alive.sort(byScore);
  if (moved.length === 0) return alive;
  moved.sort(byScore);
  const out = new Array<number>(alive.length);
  let k = 0;
  let m = 0;
  let o = 0;
  while (k < kept.length && m < moved.length) out[o++] = before(moved[m], kept[k]) ? moved[m++] : kept[k++];
  while (k < kept.length) out[o++] = kept[k++];
  while (m < moved.length) out[o++] = moved[m++];
  return out;
}

/** Reorders and filters `candidates` by `ctx.rules`; see the module comment for the semantics. */
export function applyRules<C extends ScoredCandidate>(
  candidates: readonly C[],
  ctx: ApplyRulesContext<C>,
): RulesOutcome<C> {
  const tracing = ctx.trace ?? true;
  const trace: RuleTraceEntry[] = [];
  const now = ctx.context.now;
  const env: ExprEnv = {
    item: null,
    user: ctx.user ?? null,
    context: { placement: ctx.context.placement, attributes: ctx.context.attributes },
    now,
  };

  const filters: CompiledRule[] = [];
  const scorers: CompiledRule[] = [];
  const pins: CompiledRule[] = [];
  for (const r of ctx.rules) {
    if (r.rule.placement !== ctx.context.placement && r.rule.placement !== ANY_PLACEMENT) continue;
    const reason = inactiveReason(r, now, env);
    if (reason !== null) {
      if (tracing) trace.push({ ruleId: r.rule.id, action: 'skip', reason });
      continue;
    }
    if (r.rule.action === 'filter') filters.push(r);
    else if (r.rule.action === 'pin') pins.push(r);
    else scorers.push(r);
  }
  filters.sort(byPriority);
  scorers.sort(byPriority);
  pins.sort(byPriority);

  const n = candidates.length;
  if (filters.length + scorers.length + pins.length === 0 || n === 0) {
    return { candidates: candidates.slice(), trace };
  }
  const items: (ExprItem | null)[] = [];
  const scores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = candidates[i];
    items.push(ctx.item(c, i) ?? null);
    scores[i] = c.score;
  }
  const matches = (where: CompiledExpression, i: number): boolean => {
    env.item = items[i];
    return where.test(env);
  };

  // Filters.
  let alive: number[] = [];
  for (let i = 0; i < n; i++) alive.push(i);
  for (const r of filters) {
    const kept: number[] = [];
    for (const i of alive) {
      if (matches(r.where, i)) {
        if (tracing) trace.push({ ruleId: r.rule.id, action: 'filter', itemId: candidates[i].itemId });
      } else kept.push(i);
    }
    alive = kept;
  }

  // Boost and bury, then sort.
  let changed: Uint8Array | null = null;
  for (const r of scorers) {
    const action = r.rule.action as 'boost' | 'bury';
    for (const i of alive) {
      if (!matches(r.where, i)) continue;
      const before = scores[i];
      const after = adjust(r.rule, before);
      scores[i] = after;
      changed ??= new Uint8Array(n);
      changed[i] = 1;
      if (tracing) {
        trace.push({
          ruleId: r.rule.id,
          action,
          itemId: candidates[i].itemId,
          scoreBefore: before,
          scoreAfter: after,
        });
      }
    }
  }
  if (changed !== null) alive = sortByScore(alive, scores, changed);

  // Pins.
  const m = alive.length;
  let order = alive;
  if (pins.length > 0) {
    const placed = new Int32Array(m).fill(-1); // position -> candidate
    const pinnedAt = new Int32Array(n).fill(NOT_PINNED); // candidate -> position, BEYOND, NOT_PINNED
    const pinTrace: { rule: CompiledRule; candidate: number }[] = [];
    const overflow: number[] = [];
    for (const r of pins) {
      let chosen = -1;
      for (const i of alive) {
        if (pinnedAt[i] === NOT_PINNED && matches(r.where, i)) {
          chosen = i;
          break;
        }
      }
      if (chosen < 0) {
        if (tracing) trace.push({ ruleId: r.rule.id, action: 'skip', reason: 'no-match' });
        continue;
      }
      let pos = (r.rule.slot ?? 1) - 1;
      while (pos < m && placed[pos] >= 0) pos++;
      if (pos < m) {
        placed[pos] = chosen;
        pinnedAt[chosen] = pos;
      } else {
        pinnedAt[chosen] = BEYOND;
        overflow.push(chosen);
      }
      pinTrace.push({ rule: r, candidate: chosen });
    }
    if (pinTrace.length > 0) {
      // Pins beyond the list come after every unpinned item, in pin order.
      const rest: number[] = [];
      for (const i of alive) if (pinnedAt[i] === NOT_PINNED) rest.push(i);
      for (const i of overflow) rest.push(i);
      order = [];
      let next = 0;
      for (let pos = 0; pos < m; pos++) {
        const p = placed[pos];
        if (p >= 0) order.push(p);
        else {
          const c = rest[next++];
          order.push(c);
          if (pinnedAt[c] === BEYOND) pinnedAt[c] = pos;
        }
      }
      if (tracing) {
        for (const { rule, candidate } of pinTrace) {
          trace.push({
            ruleId: rule.rule.id,
            action: 'pin',
            itemId: candidates[candidate].itemId,
            slot: rule.rule.slot ?? 1,
            position: pinnedAt[candidate] + 1,
          });
        }
      }
    }
  }

  const out: C[] = [];
  for (const i of order) {
    const c = candidates[i];
    out.push(changed !== null && changed[i] === 1 ? { ...c, score: scores[i] } : c);
  }
  return { candidates: out, trace };
}

/** Gives checked rules their order, ready for `applyRules`. */
export function withOrder(rules: readonly CheckedRule[], start = 0): CompiledRule[] {
  return rules.map((r, k) => ({ ...r, order: start + k }));
}
