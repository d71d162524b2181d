/**
 * Metadata labels of the MovieLens datasets, for the hybrid model's feature matrices:
 * films by genre and release decade (ml-100k `u.item`, ml-latest-small `movies.csv`), and
 * ml-100k users by age band, gender, occupation and the first digit of their zip code (`u.user`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The 19 genre flags of ML-100K's u.item, in column order. */
export const ML100K_GENRES = [
  'unknown',
  'Action',
  'Adventure',
  'Animation',
  "Children's",
  'Comedy',
  'Crime',
  'Documentary',
  'Drama',
  'Fantasy',
  'Film-Noir',
  'Horror',
  'Musical',
  'Mystery',
  'Romance',
  'Sci-Fi',
  'Thriller',
  'War',
  'Western',
];

/** Labels by external id. */
export type LabelMap = Map<string, string[]>;

function decade(title: string): string | null {
  const m = /\((\d{4})\)\s*$/.exec(title.trim());
  return m ? `decade:${m[1].slice(0, 3)}0` : null;
}

/** Film labels of a MovieLens folder (ml-100k or ml-latest-small layout); empty when absent. */
export function movieLabels(dir: string): LabelMap {
  const out: LabelMap = new Map();
  const uItem = path.join(dir, 'u.item');
  const movies = path.join(dir, 'movies.csv');
  if (existsSync(uItem)) {
    for (const line of readFileSync(uItem, 'latin1').split('\n')) {
      if (!line) continue;
      const f = line.split('|');
      const labels: string[] = [];
      const flags = f.slice(5);
      for (let g = 0; g < flags.length && g < ML100K_GENRES.length; g++) {
        if (flags[g] === '1') labels.push(`genre:${ML100K_GENRES[g]}`);
      }
      const year = /(\d{4})$/.exec(f[2] ?? '');
      if (year) labels.push(`decade:${year[1].slice(0, 3)}0`);
      out.set(f[0], labels);
    }
  } else if (existsSync(movies)) {
    const lines = readFileSync(movies, 'utf8').split(/\r?\n/);
    for (let l = 1; l < lines.length; l++) {
      const line = lines[l];
      if (!line) continue;
      const first = line.indexOf(',');
      const last = line.lastIndexOf(',');
      const id = line.slice(0, first);
      let title = line.slice(first + 1, last);
      if (title.startsWith('"')) title = title.slice(1, -1);
      const labels = line
        .slice(last + 1)
        .split('|')
        .filter((g) => g && g !== '(no genres listed)')
        .map((g) => `genre:${g}`);
      const d = decade(title);
      if (d) labels.push(d);
      out.set(id, labels);
    }
  }
  return out;
}

function ageBand(age: number): string {
  if (age < 18) return 'age:<18';
  if (age < 25) return 'age:18-24';
  if (age < 35) return 'age:25-34';
  if (age < 45) return 'age:35-44';
  if (age < 56) return 'age:45-55';
  return 'age:56+';
}

/** User labels of ml-100k (`u.user`); empty for folders without it. */
export function userLabels(dir: string): LabelMap {
  const out: LabelMap = new Map();
  const file = path.join(dir, 'u.user');
  if (!existsSync(file)) return out;
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (!line) continue;
    const [id, age, gender, occupation, zip] = line.split('|');
    const labels = [ageBand(Number(age)), `gender:${gender}`, `occupation:${occupation}`];
    if (/^[0-9]/.test(zip ?? '')) labels.push(`zip:${zip[0]}`);
    out.set(id, labels);
  }
  return out;
}
