/**
 * Text into terms for content features: tokenisation, stop words, lemmas or stems come from
 * wink-nlp with its English model (wink-eng-lite-web-model, shipped as an npm package, no
 * download at run time). The model is loaded on first use and shared by every caller.
 *
 * `terms(text)` keeps word tokens (and optionally numbers) that are not stop words and have at
 * least `minLength` characters, normalised by `normalise` (lemma: "running" → "run", "cities"
 * → "city"; stem: Porter-style "running" → "run", "quickly" → "quick"; lower: case folding
 * only), then appends the n-grams (n = 2..`ngrams`) of consecutive kept terms joined by a space.
 */
import { createRequire } from 'node:module';
import type { ItsFunction, ItsHelpers, WinkMethods } from 'wink-nlp';

export type TermNormaliser = 'lemma' | 'stem' | 'lower';

export interface TermOptions {
  /** How a word becomes a term (default lemma). */
  normalise?: TermNormaliser;
  /** Drop the model's English stop words (default true). */
  removeStopWords?: boolean;
  /** Longest n-gram of consecutive kept terms (1: single terms only; default 1, at most 4). */
  ngrams?: number;
  /** Shortest term kept, in characters (default 2). */
  minLength?: number;
  /** Keep number tokens such as "1995" (default false). */
  keepNumbers?: boolean;
}

interface Nlp {
  nlp: WinkMethods;
  its: ItsHelpers;
}

let loaded: Nlp | null = null;

/** The shared wink-nlp instance (tokeniser, stop words, lemmas, stems), loaded once. */
function nlp(): Nlp {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const winkNLP = require('wink-nlp') as (model: unknown, pipe?: string[]) => WinkMethods;
  const model: unknown = require('wink-eng-lite-web-model');
  // Part-of-speech tags drive the lemmatiser; the other pipes are not needed for terms.
  const instance = winkNLP(model, ['pos']);
  loaded = { nlp: instance, its: instance.its };
  return loaded;
}

/** The terms of a text, in order (n-grams after the single terms). */
export function terms(text: string, options: TermOptions = {}): string[] {
  const normalise = options.normalise ?? 'lemma';
  const removeStop = options.removeStopWords ?? true;
  const ngrams = Math.min(4, Math.max(1, Math.floor(options.ngrams ?? 1)));
  const minLength = options.minLength ?? 2;
  const keepNumbers = options.keepNumbers ?? false;
  if (text.trim().length === 0) return [];
  const { nlp: wink, its } = nlp();
  const tokens = wink.readDoc(text).tokens();
  const types = tokens.out(its.type) as string[];
  const stop = tokens.out(its.stopWordFlag) as boolean[];
  const forms = (
    normalise === 'lemma'
      ? tokens.out(its.lemma as unknown as ItsFunction<string>)
      : normalise === 'stem'
        ? tokens.out(its.stem as unknown as ItsFunction<string>)
        : tokens.out(its.normal)
  ) as string[];
  const kept: string[] = [];
  for (let t = 0; t < types.length; t++) {
    const type = types[t];
    if (type !== 'word' && !(keepNumbers && type === 'number')) continue;
    if (removeStop && stop[t]) continue;
    const term = forms[t].toLowerCase();
    if (term.length < minLength) continue;
    kept.push(term);
  }
  if (ngrams === 1) return kept;
  const out = kept.slice();
  for (let n = 2; n <= ngrams; n++) {
    for (let s = 0; s + n <= kept.length; s++) out.push(kept.slice(s, s + n).join(' '));
  }
  return out;
}

/** Whether the word is one of the model's English stop words. */
export function isStopWord(word: string): boolean {
  const { nlp: wink, its } = nlp();
  const flags = wink.readDoc(word).tokens().out(its.stopWordFlag) as boolean[];
  return flags.length === 1 && flags[0];
}
