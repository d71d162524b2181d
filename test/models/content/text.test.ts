import { describe, expect, it } from 'vitest';
import { isStopWord, terms } from '../../../src/models/content/text.js';

describe('content terms', () => {
  const sentence = 'The runners were running quickly through the cities of Toy Story (1995)!';

  it('drops stop words, punctuation and numbers and lemmatises the rest', () => {
    expect(terms(sentence)).toEqual(['runner', 'run', 'quickly', 'city', 'toy', 'story']);
  });

  it('stems when asked, and keeps numbers when asked', () => {
    expect(terms('The runners were running quickly', { normalise: 'stem' })).toEqual([
      'runner',
      'run',
      'quick',
    ]);
    expect(terms('Toy Story (1995)', { keepNumbers: true })).toEqual(['toy', 'story', '1995']);
  });

  it('keeps stop words when told to, and lower-cases with `lower`', () => {
    expect(terms('The Cities', { normalise: 'lower', removeStopWords: false })).toEqual(['the', 'cities']);
  });

  it('appends n-grams of consecutive kept terms', () => {
    // "running" before a noun is an adjective, so its lemma is itself.
    expect(terms('red running shoes', { ngrams: 2 })).toEqual([
      'red',
      'running',
      'shoe',
      'red running',
      'running shoe',
    ]);
  });

  it('knows English stop words', () => {
    expect(isStopWord('the')).toBe(true);
    expect(isStopWord('through')).toBe(true);
    expect(isStopWord('apple')).toBe(false);
  });
});
