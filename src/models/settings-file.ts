/**
 * Chosen model settings, saved beside the models (`<models dir>/settings.json`) by a settings
 * search (`kindred eval` with a search) and read by every later training run: explicit
 * parameters override them, and they override the models' defaults.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ValidationError } from '../domain/errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { Params, ParamValue } from './params.js';

/** Why a setting was chosen: the search that found it. */
export interface SettingsSource {
  /** Experiment name. */
  experiment: string;
  /** Validation metric and its value for these settings, e.g. `ndcg@10`. */
  metric: string;
  score: number;
  trials: number;
  /** ISO time the search finished. */
  chosenAt: string;
}

export interface SavedSettings {
  params: Params;
  source: SettingsSource;
}

export type SettingsBook = Record<string, SavedSettings>;

export function settingsFile(modelsDir: string): string {
  return path.join(modelsDir, 'settings.json');
}

function isParamValue(v: unknown): v is ParamValue {
  return typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean';
}

/** Reads the saved settings; an absent file is an empty book, a damaged one an error naming it. */
export function readSettings(modelsDir: string): SettingsBook {
  const file = settingsFile(modelsDir);
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new ValidationError(`${file} must hold an object of model settings`);
  const book: SettingsBook = {};
  for (const [model, entry] of Object.entries(raw as Record<string, unknown>)) {
    const params = (entry as { params?: unknown } | null)?.params;
    if (typeof params !== 'object' || params === null || Array.isArray(params))
      throw new ValidationError(`${file}: ${model}.params must be an object`);
    const clean: Params = {};
    for (const [k, v] of Object.entries(params as Record<string, unknown>)) {
      if (!isParamValue(v))
        throw new ValidationError(`${file}: ${model}.params.${k} must be a number, string or boolean`);
      clean[k] = v;
    }
    book[model] = { params: clean, source: (entry as SavedSettings).source };
  }
  return book;
}

/** Records the settings of one model, keeping those of the others. */
export function saveSettings(modelsDir: string, model: string, settings: SavedSettings): void {
  const book = readSettings(modelsDir);
  book[model] = settings;
  writeFileAtomic(settingsFile(modelsDir), JSON.stringify(book, null, 2) + '\n');
}

/** Saved settings overlaid with explicit ones, per model. */
export function effectiveParams(
  book: SettingsBook,
  explicit: Record<string, Params> | undefined,
  models: readonly string[],
): Record<string, Params> {
  const out: Record<string, Params> = {};
  for (const m of models) out[m] = { ...(book[m]?.params ?? {}), ...(explicit?.[m] ?? {}) };
  return out;
}
