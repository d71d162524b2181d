import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.js';
import { importEventsFile, importItemsFile, importUsersFile } from '../../src/ingest/importers/delimited.js';
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

async function allEvents() {
  return (await store.listEvents({ limit: 1000 })).rows.map(({ id: _id, ...e }) => e);
}

describe('importEventsFile: CSV with a header and quotes', () => {
  it('maps named columns, honours quotes and reports bad lines by number', async () => {
    const path = tmp.file(
      'events.csv',
      [
        'user_id,sku,event,rating,ts,session',
        '"Smith, J",A-1,view,,2024-01-02T03:04:05Z,s1',
        'u2,"B,2",rating,4.5,2024-01-02T03:05:00Z,',
        'u3,C-3,wishlist,,2024-01-02T03:06:00Z,s2',
        'u4,D-4,rating,five,2024-01-02T03:07:00Z,s2',
        '',
        'u5,E-5,view,,not a date,s3',
        ',F-6,view,,2024-01-02T03:08:00Z,s3',
        'u7,G-7,purchase,,2024-01-02T03:09:00Z,"s ""7"""',
      ].join('\r\n') + '\r\n',
    );
    const report = await importEventsFile(store, path, {
      user: 'user_id',
      item: 'sku',
      type: 'event',
      value: 'rating',
      timestamp: 'ts',
      timestampUnit: 'iso',
      session: 'session',
    });
    expect(report).toMatchObject({ rows: 7, imported: 3, duplicates: 0, bad: 4 });
    expect(report.errors).toEqual([
      {
        line: 4,
        field: 'type',
        message: expect.stringMatching(/^unknown event type 'wishlist' \(configured types: .*view/),
      },
      { line: 5, field: 'value', message: "must be a number, got 'five'" },
      {
        line: 7,
        field: 'timestamp',
        message: "must be an ISO 8601 date-time between the years 1970 and 2200, got 'not a date'",
      },
      { line: 8, field: 'user', message: 'is empty' },
    ]);
    expect(await allEvents()).toEqual([
      {
        userId: 'Smith, J',
        itemId: 'A-1',
        type: 'view',
        value: null,
        timestamp: Date.UTC(2024, 0, 2, 3, 4, 5),
        sessionId: 's1',
        context: null,
        clientEventId: null,
      },
      {
        userId: 'u2',
        itemId: 'B,2',
        type: 'rating',
        value: 4.5,
        timestamp: Date.UTC(2024, 0, 2, 3, 5),
        sessionId: null,
        context: null,
        clientEventId: null,
      },
      {
        userId: 'u7',
        itemId: 'G-7',
        type: 'purchase',
        value: null,
        timestamp: Date.UTC(2024, 0, 2, 3, 9),
        sessionId: 's "7"',
        context: null,
        clientEventId: null,
      },
    ]);
    expect(await store.countUsers()).toBe(3);
  });

  it('guesses the columns from a known header when no mapping is given', async () => {
    const path = tmp.file(
      'ratings.csv',
      'userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n',
    );
    const report = await importEventsFile(store, path);
    expect(report).toMatchObject({ rows: 2, imported: 2, bad: 0 });
    const events = await allEvents();
    expect(events.map((e) => [e.userId, e.itemId, e.type, e.value, e.timestamp])).toEqual([
      ['1', '31', 'rating', 2.5, 1_260_759_144_000],
      ['1', '1029', 'rating', 3, 1_260_759_179_000],
    ]);
  });

  it('refuses a named column that is not in the header', async () => {
    const path = tmp.file('noitem.csv', 'user,product\nu1,p1\n');
    await expect(importEventsFile(store, path, { user: 'user', item: 'sku' })).rejects.toThrow(
      ValidationError,
    );
    await expect(importEventsFile(store, path, { user: 'user', item: 'sku' })).rejects.toThrow(
      "item: column 'sku' is not in the header (user, product)",
    );
  });

  it('refuses a default type that is not configured', async () => {
    const path = tmp.file('plain.csv', 'u1,p1\n');
    await expect(
      importEventsFile(store, path, { user: 0, item: 1, defaultType: 'wishlist' }),
    ).rejects.toThrow(/unknown event type 'wishlist'/);
  });
});

describe('importEventsFile: TSV without a header', () => {
  it('reads user, item, value, timestamp by position and keeps the good lines around bad ones', async () => {
    const path = tmp.file(
      'u.data',
      [
        '196\t242\t3\t881250949',
        '186\t302\t3.5\t891717742',
        '22\t377\tx\t878887116',
        '244\t\t2\t880606923',
        '166\t346\t1',
        '298\t474\t4\t-5',
        '115\t265\t2\t881171488',
        '253\t465\t5\t891628467\textra',
        '305\t451\t3\t1e9',
      ].join('\n'),
    );
    const report = await importEventsFile(store, path, {
      user: 0,
      item: 1,
      value: 2,
      timestamp: 3,
      timestampUnit: 's',
      defaultType: 'rating',
    });
    expect(report).toMatchObject({ rows: 9, imported: 5, bad: 4 });
    expect(report.errors).toEqual([
      { line: 3, field: 'value', message: "must be a number, got 'x'" },
      { line: 4, field: 'item', message: 'is empty' },
      { line: 5, field: 'timestamp', message: 'is missing' },
      {
        line: 6,
        field: 'timestamp',
        message: "must be epoch seconds between the years 1970 and 2200, got '-5'",
      },
    ]);
    const events = await allEvents();
    expect(events.map((e) => `${e.userId}/${e.itemId}/${e.type}/${e.value}/${e.timestamp}`)).toEqual([
      '196/242/rating/3/881250949000',
      '186/302/rating/3.5/891717742000',
      '115/265/rating/2/881171488000',
      '253/465/rating/5/891628467000',
      '305/451/rating/3/1000000000000',
    ]);
  });

  it('defaults to views stamped with the import time when only user and item are given', async () => {
    const path = tmp.file('pairs.tsv', 'u1\ti1\nu2\ti2\n');
    const report = await importEventsFile(store, path, undefined, { now: Date.UTC(2025, 0, 1) });
    expect(report).toMatchObject({ rows: 2, imported: 2, bad: 0 });
    expect((await allEvents()).map((e) => [e.type, e.value, e.timestamp])).toEqual([
      ['view', null, Date.UTC(2025, 0, 1)],
      ['view', null, Date.UTC(2025, 0, 1)],
    ]);
  });

  it('writes in batches of the requested size', async () => {
    const lines = Array.from({ length: 25 }, (_, i) => `u${i % 4}\ti${i}\t1\t${1_600_000_000 + i}`);
    const path = tmp.file('batches.tsv', lines.join('\n'));
    const sizes: number[] = [];
    const insert = store.insertEvents.bind(store);
    store.insertEvents = async (events) => {
      sizes.push(events.length);
      return insert(events);
    };
    const report = await importEventsFile(
      store,
      path,
      { user: 0, item: 1, value: 2, timestamp: 3 },
      { batchSize: 10 },
    );
    expect(sizes).toEqual([10, 10, 5]);
    expect(report.imported).toBe(25);
    expect(await store.countEvents()).toBe(25);
  });
});

describe('importEventsFile: duplicates by clientEventId', () => {
  it('counts repeats within the file and on a second import', async () => {
    const path = tmp.file(
      'dups.csv',
      ['user,item,type,id', 'u1,i1,view,e1', 'u1,i2,view,e2', 'u1,i1,view,e1', 'u2,i3,click,'].join('\n'),
    );
    const mapping = { user: 'user', item: 'item', type: 'type', clientEventId: 'id' };
    const first = await importEventsFile(store, path, mapping);
    expect(first).toMatchObject({ rows: 4, imported: 3, duplicates: 1, bad: 0 });
    const second = await importEventsFile(store, path, mapping);
    expect(second).toMatchObject({ rows: 4, imported: 1, duplicates: 3, bad: 0 });
    expect(await store.countEvents()).toBe(4);
  });
});

describe('importItemsFile', () => {
  it('takes known columns by name and the rest as typed attributes', async () => {
    const path = tmp.file(
      'items.csv',
      [
        'id,title,description,categories,tags,available,price,zip,brand,launched',
        'sku1,"Merino Socks, 2-pack","Warm.\nSoft ""wool"".",sports/running|fashion/accessories,wool|gift,yes,12.99,02134,Kestrel,true',
        'sku2,Trail Shoes,,sports/running,,no,120,,Stridewell,false',
        ',Nameless,,,,,1,,,',
        'sku4,Lamp,,home/decor,,maybe,30,,,',
      ].join('\n'),
    );
    const report = await importItemsFile(store, path);
    expect(report).toMatchObject({ rows: 4, imported: 2, duplicates: 0, bad: 2 });
    expect(report.errors).toEqual([
      { line: 5, field: 'id', message: 'must be a string of 1 to 256 characters' },
      { line: 6, field: 'available', message: 'must be true or false' },
    ]);
    const sku1 = await store.getItem('sku1');
    expect(sku1).toMatchObject({
      title: 'Merino Socks, 2-pack',
      text: 'Warm.\nSoft "wool".',
      categories: ['sports/running', 'fashion/accessories'],
      tags: ['wool', 'gift'],
      available: true,
      attributes: { price: 12.99, zip: '02134', brand: 'Kestrel', launched: true },
    });
    const sku2 = await store.getItem('sku2');
    expect(sku2).toMatchObject({
      title: 'Trail Shoes',
      text: null,
      tags: [],
      available: false,
      attributes: { price: 120, brand: 'Stridewell', launched: false },
    });
  });

  it('follows an explicit mapping, counts repeated ids as duplicates and keeps the last row', async () => {
    const path = tmp.file(
      'items.tsv',
      [
        'p1\tRed Mug\tkitchen;gifts\t1999',
        'p2\tBlue Mug\tkitchen\t2001',
        'p1\tRed Mug v2\tkitchen\t2002',
      ].join('\n'),
    );
    const report = await importItemsFile(
      store,
      path,
      {
        id: 0,
        title: 1,
        categories: 2,
        categorySeparator: ';',
        publishedAt: 3,
        publishedAtUnit: 'iso',
        attributes: {},
      },
      { header: false },
    );
    expect(report).toMatchObject({ rows: 3, imported: 0, bad: 3 });
    expect(report.errors[0]).toEqual({
      line: 1,
      field: 'publishedAt',
      message: "must be an ISO 8601 date-time between the years 1 and 2200, got '1999'",
    });

    const path2 = tmp.file(
      'items2.tsv',
      [
        'p1\tRed Mug\tkitchen;gifts\t1999-05-01',
        'p2\tBlue Mug\tkitchen\t2001-01-01',
        'p1\tRed Mug v2\tkitchen\t2002-01-01',
      ].join('\n'),
    );
    const ok = await importItemsFile(
      store,
      path2,
      { id: 0, title: 1, categories: 2, categorySeparator: ';', publishedAt: 3 },
      { header: false },
    );
    expect(ok).toMatchObject({ rows: 3, imported: 2, duplicates: 1, bad: 0 });
    expect(await store.countItems()).toBe(2);
    expect(await store.getItem('p1')).toMatchObject({
      title: 'Red Mug v2',
      categories: ['kitchen'],
      publishedAt: Date.UTC(2002, 0, 1),
    });
  });
});

describe('importUsersFile', () => {
  it('imports a pipe-separated file by position with named attributes', async () => {
    const path = tmp.file('u.user', ['1|24|M|technician|85711', '2|53|F|other|94043', '|1|F|x|1'].join('\n'));
    const report = await importUsersFile(
      store,
      path,
      { id: 0, attributes: { age: 1, gender: 2, occupation: 3, zip: 4 } },
      { header: false },
    );
    expect(report).toMatchObject({ rows: 3, imported: 2, bad: 1 });
    expect(report.errors).toEqual([
      { line: 3, field: 'id', message: 'must be a string of 1 to 256 characters' },
    ]);
    expect(await store.getUser('2')).toMatchObject({
      attributes: { age: 53, gender: 'F', occupation: 'other', zip: 94043 },
    });
  });
});
