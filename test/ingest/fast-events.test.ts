import { afterAll, describe, expect, it } from 'vitest';
import { parseDecimal } from '../../src/ingest/importers/fast-events.js';
import { importEventsFile } from '../../src/ingest/importers/delimited.js';
import { Rng } from '../../src/ingest/prng.js';
import { memoryStore, tempFolder } from './helpers.js';

const tmp = tempFolder();
afterAll(() => tmp.remove());

describe('parseDecimal', () => {
  it('agrees with Number on plain decimals', () => {
    const samples = [
      '0',
      '-0',
      '7',
      '007',
      '3.5',
      '-2.25',
      '0.1',
      '0.3',
      '4.0',
      '881250949',
      '1700000000123',
      '123456789.123456',
    ];
    const rng = new Rng(3);
    for (let i = 0; i < 2000; i++) {
      const whole = String(rng.int(10 ** rng.range(1, 9)));
      samples.push(rng.chance(0.5) ? whole : `${whole}.${String(rng.int(10 ** rng.range(1, 5)))}`);
    }
    for (const s of samples) expect(parseDecimal(s, 0, s.length), s).toBe(Number(s));
  });

  it('declines what it does not read itself', () => {
    for (const s of ['', '-', '1.', '.5', '1e5', ' 1', '1 ', '0x10', 'abc', '1.2.3', '12345678901234567']) {
      expect(parseDecimal(s, 0, s.length), s).toBeNaN();
    }
  });

  it('reads a slice of a longer string', () => {
    const text = 'u1\t42.5\t881250949';
    expect(parseDecimal(text, 3, 7)).toBe(42.5);
    expect(parseDecimal(text, 8, text.length)).toBe(881250949);
  });
});

describe('fast path and general path', () => {
  it('accept and reject exactly the same lines with the same results', async () => {
    const lines = [
      'u1\ti1\t3\t881250949',
      'u2\ti2\t4.5\t881250950.5',
      'u3\ti3\t1e1\t881250951',
      'u4\ti4\t\t881250952',
      'u5\ti5\t 2\t881250953',
      'u6\ti6\tNaN\t881250954',
      'u7\t\t2\t881250955',
      'u8\ti8\t2\t1.5e9',
      'u9\ti9\t2',
      'u10\ti10\t2\t-1',
      `${'x'.repeat(257)}\ti11\t2\t881250956`,
      'u12\ti12\t-0.75\t881250957\ttrailing',
      'u13\ti13\tInfinity\t881250958',
    ];
    const path = tmp.file('mixed.tsv', lines.join('\r\n'));
    const mapping = {
      user: 0,
      item: 1,
      value: 2,
      timestamp: 3,
      timestampUnit: 's' as const,
      defaultType: 'rating',
    };
    const outcomes = [];
    for (const quoted of [false, true]) {
      const store = await memoryStore();
      const report = await importEventsFile(store, path, mapping, { delimiter: '\t', header: false, quoted });
      const events = (await store.listEvents({ limit: 100 })).rows.map((e) => [
        e.userId,
        e.itemId,
        e.value,
        e.timestamp,
      ]);
      outcomes.push({ events, errors: report.errors, imported: report.imported, bad: report.bad });
      await store.close();
    }
    expect(outcomes[0]).toEqual(outcomes[1]);
    expect(outcomes[0].imported).toBe(7);
    expect(outcomes[0].events).toEqual([
      ['u1', 'i1', 3, 881_250_949_000],
      ['u2', 'i2', 4.5, 881_250_950_500],
      ['u3', 'i3', 10, 881_250_951_000],
      ['u4', 'i4', null, 881_250_952_000],
      ['u5', 'i5', 2, 881_250_953_000],
      ['u8', 'i8', 2, 1_500_000_000_000],
      ['u12', 'i12', -0.75, 881_250_957_000],
    ]);
    expect(outcomes[0].errors.map((e) => [e.line, e.field])).toEqual([
      [6, 'value'],
      [7, 'item'],
      [9, 'timestamp'],
      [10, 'timestamp'],
      [11, 'user'],
      [13, 'value'],
    ]);
  });
});
