import { filterCandidate, lengthRange, type LengthRange } from '@datagen/core';

const range: LengthRange = { minWords: 8, maxWords: 14 };

describe('filterCandidate', () => {
  it('keeps ordinary inputs', () => {
    expect(filterCandidate('Write a story about a fox who learns to share her berries.', range, 'BALANCED')).toEqual({ ok: true });
    expect(filterCandidate("I can't log into my account after the update, what should I do?", range, 'BALANCED')).toEqual({ ok: true });
  });

  it('rejects empty and punctuation-only candidates', () => {
    expect(filterCandidate(' ... !!! ', range, 'BALANCED')).toMatchObject({ ok: false, reason: 'empty' });
  });

  it.each([
    'As an AI language model, I can suggest the following story ideas for children.',
    'Here are 5 new inputs for this application:',
    'Here are some example questions you could ask the assistant today',
    'Sure! Below you will find ten requests of the kind users send:',
    'New inputs: a story about a cat, a story about a dog, and more',
  ])('rejects meta-text: %s', (text) => {
    expect(filterCandidate(text, range, 'BALANCED')).toMatchObject({ ok: false, reason: 'meta' });
  });

  it('rejects refusals', () => {
    expect(filterCandidate("I'm sorry, but I can't help with writing more of these requests.", range, 'BALANCED')).toMatchObject({
      ok: false,
      reason: 'refusal',
    });
  });

  it('rejects lengths far outside the seeds’ range, more leniently in bolder modes', () => {
    const long = Array.from({ length: 80 }, (_, i) => `word${i}`).join(' ');
    expect(filterCandidate(long, range, 'CONSERVATIVE')).toMatchObject({ ok: false, reason: 'length' });
    expect(filterCandidate(long, range, 'ADVENTUROUS')).toEqual({ ok: true });
    expect(filterCandidate('Hi', { minWords: 30, maxWords: 40 }, 'BALANCED')).toMatchObject({ ok: false, reason: 'length' });
    expect(filterCandidate('Hi', null, 'BALANCED')).toEqual({ ok: true });
  });
});

describe('lengthRange', () => {
  it('spans the seeds in words', () => {
    expect(lengthRange(['one two three', 'one two three four five'])).toEqual({ minWords: 3, maxWords: 5 });
    expect(lengthRange([])).toBeNull();
  });
});

describe('filterCandidate with invisible format characters', () => {
  it('rejects a candidate of invisible characters only as empty', () => {
    expect(filterCandidate('\u200B\u2060 \uFEFF', range, 'BALANCED')).toMatchObject({ ok: false, reason: 'empty' });
  });

  it('counts a word broken by them as one word, as dedup does', () => {
    expect(lengthRange(['pass\u200Bword re\u00ADset', 'one two three'])).toEqual({ minWords: 2, maxWords: 3 });
    expect(filterCandidate('wo\uFEFFrd', { minWords: 6, maxWords: 6 }, 'CONSERVATIVE')).toMatchObject({ ok: false, reason: 'length' });
  });
});
