import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importEventsJsonl, importItemsJsonl, importUsersJsonl } from '../../src/ingest/importers/jsonl.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { memoryStore, tempFolder } from './helpers.js';

const tmp = tempFolder();
afterAll(() => tmp.remove());

let store: SqliteStore;
beforeEach(async () => {
  store = await memoryStore();
});
afterEach(async () => {
  await store.close();
});

const NOW = Date.UTC(2025, 2, 1);

describe('importEventsJsonl', () => {
  it('validates wire-format rows, reports bad lines and skips repeated clientEventIds', async () => {
    const path = tmp.file(
      'events.jsonl',
      [
        '{"userId":"u1","itemId":"i1","type":"view","timestamp":"2024-06-01T10:00:00Z","clientEventId":"a"}',
        '{"userId":"u1","itemId":"i2","type":"purchase","context":{"placement":"home"},"clientEventId":"b"}',
        '{"userId":"u1","itemId":"i1","type":"view","clientEventId":"a"}',
        '{"userId":"u2","itemId":"i3","type":"teleport"}',
        '{"userId":"u2","itemId":"i3","type":"view",',
        '',
        '{"userId":"u2","type":"view","timestamp":"soon"}',
        '[1,2]',
        '{"userId":"u3","itemId":"i4","type":"rating","value":4,"timestamp":1717236000000}',
      ].join('\n'),
    );
    const report = await importEventsJsonl(store, path, undefined, { now: NOW });
    expect(report).toMatchObject({ rows: 8, imported: 3, duplicates: 1, bad: 4 });
    expect(report.errors.map((e) => [e.line, e.field])).toEqual([
      [4, 'type'],
      [5, '(row)'],
      [7, 'itemId'],
      [7, 'timestamp'],
      [8, '(row)'],
    ]);
    expect(report.errors[1].message).toMatch(/^is not valid JSON/);
    const events = (await store.listEvents()).rows;
    expect(events.map((e) => [e.userId, e.itemId, e.type, e.value, e.timestamp, e.clientEventId])).toEqual([
      ['u1', 'i1', 'view', null, Date.UTC(2024, 5, 1, 10), 'a'],
      ['u1', 'i2', 'purchase', null, NOW, 'b'],
      ['u3', 'i4', 'rating', 4, 1_717_236_000_000, null],
    ]);
    expect(events[1].context).toEqual({ placement: 'home' });
  });

  it('reads other key names through a mapping', async () => {
    const path = tmp.file(
      'mapped.jsonl',
      [
        '{"uid":7,"product":"p-1","kind":"cart","at":1717236000}',
        '{"uid":8,"kind":"cart","at":1717236000}',
        '"text"',
      ].join('\n'),
    );
    const report = await importEventsJsonl(store, path, {
      user: 'uid',
      item: 'product',
      type: 'kind',
      timestamp: 'at',
      timestampUnit: 's',
    });
    expect(report).toMatchObject({ rows: 3, imported: 1, bad: 2 });
    expect(report.errors).toEqual([
      { line: 2, field: 'item', message: 'is missing' },
      { line: 3, field: '(row)', message: 'must be an object' },
    ]);
    const [event] = (await store.listEvents()).rows;
    expect([event.userId, event.itemId, event.type, event.timestamp]).toEqual([
      '7',
      'p-1',
      'cart',
      1_717_236_000_000,
    ]);
  });
});

describe('importItemsJsonl and importUsersJsonl', () => {
  it('imports wire-format items and users', async () => {
    const items = tmp.file(
      'items.jsonl',
      [
        '{"id":"i1","title":"Mug","categories":["home/kitchen"],"attributes":{"price":9.5},"publishedAt":"2020-01-01"}',
        '{"id":"i2","title":"Lamp","available":"no"}',
        '{"id":"i1","title":"Mug (new)","categories":["home/kitchen"]}',
      ].join('\n'),
    );
    const itemReport = await importItemsJsonl(store, items);
    expect(itemReport).toMatchObject({ rows: 3, imported: 1, duplicates: 1, bad: 1 });
    expect(itemReport.errors).toEqual([{ line: 2, field: 'available', message: 'must be true or false' }]);
    expect(await store.getItem('i1')).toMatchObject({
      title: 'Mug (new)',
      attributes: {},
      publishedAt: null,
    });

    const users = tmp.file('users.jsonl', '{"id":"u1","attributes":{"country":"DE"}}\n{"name":"x"}\n');
    const userReport = await importUsersJsonl(store, users);
    expect(userReport).toMatchObject({ rows: 2, imported: 1, bad: 1 });
    expect(userReport.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'id'],
      [2, 'name'],
    ]);
    expect(await store.getUser('u1')).toMatchObject({ attributes: { country: 'DE' } });
  });

  it('maps item keys', async () => {
    const items = tmp.file('shop.jsonl', '{"sku":"s1","name":"Socks","cats":"a|b","price":3,"stock":0}\n');
    const report = await importItemsJsonl(store, items, {
      id: 'sku',
      title: 'name',
      categories: 'cats',
      attributes: ['price', 'stock'],
    });
    expect(report).toMatchObject({ rows: 1, imported: 1, bad: 0 });
    expect(await store.getItem('s1')).toMatchObject({
      title: 'Socks',
      categories: ['a', 'b'],
      attributes: { price: 3, stock: 0 },
    });
  });
});
