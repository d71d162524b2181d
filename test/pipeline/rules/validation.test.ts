import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/domain/errors.js';
import { checkRule, checkRuleList, compileRules } from '../../../src/pipeline/rules/index.js';

const base = { id: 'r1', placement: 'home', action: 'boost', where: 'item.price < 50', enabled: true };

function errorsOf(input: unknown): { field: string; message: string }[] {
  const result = checkRule(input);
  if (result.ok) throw new Error('expected the rule to be rejected');
  return result.errors;
}

describe('rule validation names the field', () => {
  it('accepts a complete rule and parses its window', () => {
    const result = checkRule({
      ...base,
      action: 'pin',
      slot: 2,
      when: 'user.country == "DE"',
      startsAt: '2025-06-01T00:00:00Z',
      endsAt: '2025-07-01',
      priority: 3,
      description: 'Summer',
    });
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.rule.startsAt).toBe(Date.UTC(2025, 5, 1));
      expect(result.rule.endsAt).toBe(Date.UTC(2025, 6, 1));
    }
  });

  it('reports missing, unknown and mistyped fields', () => {
    expect(errorsOf({ id: 'r1' })).toEqual(
      expect.arrayContaining([
        { field: 'placement', message: 'is required' },
        { field: 'action', message: 'is required' },
        { field: 'where', message: 'is required' },
        { field: 'enabled', message: 'is required' },
      ]),
    );
    expect(errorsOf({ ...base, colour: 'red' })).toEqual([
      { field: 'colour', message: expect.stringMatching(/^is not a known field \(allowed: id, placement/) },
    ]);
    expect(errorsOf({ ...base, action: 'promote' })).toEqual([
      { field: 'action', message: 'must be one of boost, bury, pin, filter' },
    ]);
    expect(errorsOf({ ...base, id: 'has space' })).toEqual([
      { field: 'id', message: expect.stringMatching(/^must be/) },
    ]);
    expect(errorsOf({ ...base, weight: -1 })).toEqual([
      { field: 'weight', message: 'must be a number greater than 0' },
    ]);
    expect(errorsOf({ ...base, enabled: 'yes' })).toEqual([
      { field: 'enabled', message: 'must be true or false' },
    ]);
    expect(errorsOf('boost')).toEqual([{ field: '(rule)', message: 'must be an object' }]);
  });

  it('reports expression errors under where and when with their position', () => {
    expect(errorsOf({ ...base, where: '(item.price < 50' })).toEqual([
      { field: 'where', message: "expected ')' at column 17 (found end of expression)" },
    ]);
    expect(errorsOf({ ...base, where: 'process.env.SECRET == "x"' })[0].field).toBe('where');
    const when = errorsOf({ ...base, when: 'item.price > 5' });
    expect(when).toHaveLength(1);
    expect(when[0].field).toBe('when');
    expect(when[0].message).toMatch(/can use only user, context and now/);
  });

  it('checks dates, windows and fields that belong to other actions', () => {
    expect(errorsOf({ ...base, startsAt: 'tomorrow' })).toEqual([
      { field: 'startsAt', message: 'must be an ISO 8601 date-time' },
    ]);
    expect(errorsOf({ ...base, startsAt: '2025-06-02', endsAt: '2025-06-01' })).toEqual([
      { field: 'endsAt', message: 'must be after startsAt' },
    ]);
    expect(errorsOf({ ...base, action: 'pin' })).toEqual([
      { field: 'slot', message: 'is required for a pin rule' },
    ]);
    expect(errorsOf({ ...base, action: 'pin', slot: 0 })[0].field).toBe('slot');
    expect(errorsOf({ ...base, slot: 2 })).toEqual([{ field: 'slot', message: 'is only for pin rules' }]);
    expect(errorsOf({ ...base, action: 'filter', weight: 2 })).toEqual([
      { field: 'weight', message: 'is only for boost and bury rules' },
    ]);
    expect(errorsOf({ ...base, weightMode: 'add' })).toEqual([
      { field: 'weight', message: "is required when weightMode is 'add'" },
    ]);
    expect(errorsOf({ ...base, weight: 0.5 })[0]).toEqual({
      field: 'weight',
      message: expect.stringMatching(/^must be at least 1 for weightMode 'multiply'/),
    });
  });

  it('prefixes fields with the rule position in a list and checks ids and placements', () => {
    const result = checkRuleList('home', [
      base,
      { ...base, where: 'item.price <' },
      { ...base, id: 'r2', placement: 'pdp' },
      { ...base },
    ]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.field)).toEqual(['rules/1/where', 'rules/2/placement', 'rules/3/id']);
      expect(result.errors[2].message).toBe("'r1' is already used by rules/0");
    }
    expect(checkRuleList('home', {}).ok).toBe(false);
  });

  it('throws a ValidationError from compileRules', () => {
    try {
      compileRules([base, { ...base, id: 'r2', slot: 3 }]);
      throw new Error('accepted');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).details).toEqual([
        { field: 'rules/1/slot', message: 'is only for pin rules' },
      ]);
    }
  });
});
