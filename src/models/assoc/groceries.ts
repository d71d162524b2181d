/**
 * Reader for the Groceries market-basket data set (the `arules` Groceries transactions):
 *
 * - `groceries.csv`: one basket per line, item names separated by commas;
 * - `Groceries.labels` (optional): `id \t name \t german name`, one line per item; the first two
 *   digits of the id give the level-2 category and the first digit the level-1 category,
 *   named in `Groceries.cat2.labels` / `Groceries.cat1.labels` (`id \t name \t german name`).
 *
 * With the labels, item indices follow the label file order; without them, first appearance.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { IdMap } from '../../data/id-map.js';
import { basketsFromLists, type Baskets, type ItemGrouping } from './baskets.js';

export interface GroceriesData {
  baskets: Baskets;
  /** Item names, by item index. */
  itemIds: string[];
  /** Level-2 categories (55, e.g. "dairy produce"), when the label files are present. */
  category?: ItemGrouping;
  /** Level-1 categories (10, e.g. "fresh products"), when the label files are present. */
  department?: ItemGrouping;
}

function labelLines(file: string): string[][] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t'));
}

function grouping(codes: string[], labelFile: string, prefix: number): ItemGrouping | undefined {
  if (!existsSync(labelFile)) return undefined;
  const rows = labelLines(labelFile);
  const byCode = new Map(rows.map((r, g) => [r[0].trim(), g]));
  const itemGroup = Int32Array.from(codes, (c) => byCode.get(c.slice(0, prefix)) ?? -1);
  return { itemGroup, groupIds: rows.map((r) => (r[1] ?? r[0]).trim()) };
}

/** Reads the Groceries files of `dir` (see the module comment). */
export function readGroceries(dir: string): GroceriesData {
  const labelsFile = path.join(dir, 'Groceries.labels');
  const labels = existsSync(labelsFile) ? labelLines(labelsFile) : [];
  const items = new IdMap(labels.map((r) => r[1].trim()));
  const lists: number[][] = [];
  for (const line of readFileSync(path.join(dir, 'groceries.csv'), 'utf8').split(/\r?\n/)) {
    if (line.trim() === '') continue;
    lists.push(line.split(',').map((name) => items.getOrAdd(name.trim())));
  }
  const data: GroceriesData = { baskets: basketsFromLists(lists, items.size), itemIds: items.ids.slice() };
  if (labels.length > 0) {
    const codes = items.ids.map((_, i) => (i < labels.length ? labels[i][0].trim() : ''));
    data.category = grouping(codes, path.join(dir, 'Groceries.cat2.labels'), 2);
    data.department = grouping(codes, path.join(dir, 'Groceries.cat1.labels'), 1);
  }
  return data;
}
