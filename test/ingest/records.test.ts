import { afterAll, describe, expect, it } from 'vitest';
import { readLineChunks, readTextChunks } from '../../src/ingest/importers/lines.js';
import { endsInsideQuotes, readRecordChunks } from '../../src/ingest/importers/records.js';
import { tempFolder } from './helpers.js';

const tmp = tempFolder();
afterAll(() => tmp.remove());

async function allRecords(path: string, delimiter: string, quoted: boolean) {
  const records: string[][] = [];
  const lines: number[] = [];
  const bad: { line: number; message: string }[] = [];
  for await (const chunk of readRecordChunks(path, { delimiter, quoted, chunkBytes: 16 })) {
    records.push(...chunk.records);
    lines.push(...chunk.lines);
    bad.push(...chunk.bad);
  }
  return { records, lines, bad };
}

describe('readLineChunks', () => {
  it('strips CRLF and a BOM, numbers lines across chunk borders and keeps a last line without newline', async () => {
    const path = tmp.file('crlf.txt', '\uFEFFa,b\r\n\r\nccc,ddd\r\neee');
    const seen: [number, string][] = [];
    for await (const { lines, firstLine } of readLineChunks(path, { chunkBytes: 4 })) {
      lines.forEach((l, k) => seen.push([firstLine + k, l]));
    }
    expect(seen).toEqual([
      [1, 'a,b'],
      [2, ''],
      [3, 'ccc,ddd'],
      [4, 'eee'],
    ]);
  });

  it('reads Latin-1 when asked', async () => {
    const path = tmp.file('latin1.txt', Buffer.from([0x4d, 0xe9, 0x70, 0x72, 0x69, 0x73, 0x0a]));
    const chunks = [];
    for await (const chunk of readTextChunks(path, { encoding: 'latin1' })) chunks.push(chunk.text);
    expect(chunks).toEqual(['Mépris']);
  });
});

describe('endsInsideQuotes', () => {
  it('follows RFC 4180 quoting', () => {
    expect(endsInsideQuotes('1,"open', ',', false)).toBe(true);
    expect(endsInsideQuotes('1,"closed",2', ',', false)).toBe(false);
    expect(endsInsideQuotes('1,"a ""quoted"" word",2', ',', false)).toBe(false);
    expect(endsInsideQuotes('1,Hello "World,2', ',', false)).toBe(false);
    expect(endsInsideQuotes('still inside', ',', true)).toBe(true);
    expect(endsInsideQuotes('end" of it,3', ',', true)).toBe(false);
  });
});

describe('readRecordChunks', () => {
  it('parses quoted fields, embedded delimiters, doubled quotes and line breaks', async () => {
    const path = tmp.file(
      'quoted.csv',
      ['id,title,note', '1,"Smith, John",plain', '2,"He said ""hi""","two', 'lines"', '', '3,x,"y"'].join(
        '\n',
      ) + '\n',
    );
    const { records, lines, bad } = await allRecords(path, ',', true);
    expect(records).toEqual([
      ['id', 'title', 'note'],
      ['1', 'Smith, John', 'plain'],
      ['2', 'He said "hi"', 'two\nlines'],
      ['3', 'x', 'y'],
    ]);
    expect(lines).toEqual([1, 2, 3, 6]);
    expect(bad).toEqual([]);
  });

  it('reports a malformed quoted record on its first line and reads the lines after it again', async () => {
    const path = tmp.file('malformed.csv', ['a,b', '1,"never closed', '2,ok', '3,"fine"'].join('\n'));
    const { records, lines, bad } = await allRecords(path, ',', true);
    expect(bad).toEqual([{ line: 2, message: 'malformed quoted field' }]);
    expect(records).toEqual([
      ['a', 'b'],
      ['2', 'ok'],
      ['3', 'fine'],
    ]);
    expect(lines).toEqual([1, 3, 4]);
  });

  it('reports a quote still open at the end of the file and keeps the lines after it', async () => {
    const path = tmp.file('unclosed.csv', ['a,b', '1,"never closed', '2,ok', '3,also ok'].join('\n'));
    const { records, lines, bad } = await allRecords(path, ',', true);
    expect(bad).toEqual([{ line: 2, message: 'a quoted field is never closed' }]);
    expect(records).toEqual([
      ['a', 'b'],
      ['2', 'ok'],
      ['3', 'also ok'],
    ]);
    expect(lines).toEqual([1, 3, 4]);
  });

  it('keeps stray quotes inside an unquoted field as text', async () => {
    const path = tmp.file('stray.csv', ['1,Hello "World",x', '2,"a""b",y'].join('\n'));
    const { records, bad } = await allRecords(path, ',', true);
    expect(bad).toEqual([]);
    expect(records).toEqual([
      ['1', 'Hello "World"', 'x'],
      ['2', 'a"b', 'y'],
    ]);
  });

  it('splits unquoted text as it is', async () => {
    const path = tmp.file('plain.tsv', '1\t"x"\t3\n\n4\t5\t6\n');
    const { records, lines } = await allRecords(path, '\t', false);
    expect(records).toEqual([
      ['1', '"x"', '3'],
      ['4', '5', '6'],
    ]);
    expect(lines).toEqual([1, 3]);
  });
});
