/**
 * The drift reference of the training data on disk (`drift-reference.json` in the models folder),
 * written by whichever process trains and read by every serving process, so that drift checks
 * survive restarts and work when training runs in another process.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { DriftReference } from './drift-reference.js';

const FORMAT = 'kindred-drift-reference';
const VERSION = 1;

export function driftReferencePath(modelsDir: string): string {
  return path.join(modelsDir, 'drift-reference.json');
}

type Numbers = number[] | null;

interface ReferenceJson {
  format: typeof FORMAT;
  version: number;
  typeCounts: [string, number][] | null;
  itemPopularity: [string, number][];
  itemIds: string[];
  itemCounts: number[];
  popularityHist: number[];
  activityHist: Numbers;
  sliceMs: number;
  scoreCuts: Numbers;
  scoreHist: Numbers;
  ctr: { clicks: number; impressions: number } | null;
  servedIds: string[] | null;
  servedCounts: Numbers;
}

const list = (a: Float64Array | null): Numbers => (a ? Array.from(a) : null);
const floats = (a: Numbers): Float64Array | null => (a ? Float64Array.from(a) : null);

export function saveDriftReference(file: string, ref: DriftReference): void {
  const json: ReferenceJson = {
    format: FORMAT,
    version: VERSION,
    typeCounts: ref.typeCounts ? [...ref.typeCounts] : null,
    itemPopularity: [...ref.itemPopularity],
    itemIds: [...ref.itemIds],
    itemCounts: Array.from(ref.itemCounts),
    popularityHist: Array.from(ref.popularityHist),
    activityHist: list(ref.activityHist),
    sliceMs: ref.sliceMs,
    scoreCuts: list(ref.scoreCuts),
    scoreHist: list(ref.scoreHist),
    ctr: ref.ctr,
    servedIds: ref.servedIds ? [...ref.servedIds] : null,
    servedCounts: list(ref.servedCounts),
  };
  writeFileAtomic(file, JSON.stringify(json));
}

/** The saved reference, or null when there is none; throws naming the file when it is not one. */
export function loadDriftReference(file: string): DriftReference | null {
  if (!existsSync(file)) return null;
  const json = JSON.parse(readFileSync(file, 'utf8')) as Partial<ReferenceJson>;
  if (json.format !== FORMAT || json.version !== VERSION)
    throw new Error(`${file} is not a Kindred drift reference (version ${VERSION})`);
  const r = json as ReferenceJson;
  return {
    typeCounts: r.typeCounts ? new Map(r.typeCounts) : null,
    itemPopularity: new Map(r.itemPopularity),
    itemIds: r.itemIds,
    itemCounts: Float64Array.from(r.itemCounts),
    popularityHist: Float64Array.from(r.popularityHist),
    activityHist: floats(r.activityHist),
    sliceMs: r.sliceMs,
    scoreCuts: floats(r.scoreCuts),
    scoreHist: floats(r.scoreHist),
    ctr: r.ctr,
    servedIds: r.servedIds,
    servedCounts: floats(r.servedCounts),
  };
}
