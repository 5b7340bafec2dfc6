import { DedupIndex, NEAREST_FLOOR, seededRandom, type DedupVerdict } from '@datagen/core';
import { makeSentence, makeVocabulary, mutateSentence } from './helpers/sentences';

const EIGHT = 'Plan a weekend hiking trip through Scottish highlands';
// The same eight words with the last one changed: ROUGE-L F1 exactly 7/8.
const EIGHT_CHANGED = 'Plan a weekend hiking trip through Welsh highlands';

describe('DedupIndex: exact duplicates', () => {
  it('finds the same input modulo case, punctuation and whitespace', () => {
    const index = new DedupIndex(0.7);
    const original = 'How do I reset my password?';
    expect(index.checkAndAdd(original)).toEqual({ kind: 'unique' });
    for (const variant of ['how do i reset my password', '  HOW do I   reset my password?!  ', 'How do I reset... my password', 'How\tdo\nI reset my password.']) {
      expect(index.check(variant)).toMatchObject({ kind: 'exact', of: original });
    }
    expect(index.size).toBe(1);
  });

  it('answers empty for inputs with nothing left after normalising, and keeps none of them', () => {
    const index = new DedupIndex(0.7);
    for (const blank of ['', '   ', '?!...', '—']) expect(index.checkAndAdd(blank)).toEqual({ kind: 'empty' });
    index.add('...');
    expect(index.size).toBe(0);
  });

  it('check does not add; checkAndAdd adds only unique inputs', () => {
    const index = new DedupIndex(0.7);
    expect(index.check('Write a poem about the sea')).toEqual({ kind: 'unique' });
    expect(index.check('Write a poem about the sea')).toEqual({ kind: 'unique' });
    expect(index.size).toBe(0);
    index.checkAndAdd('Write a poem about the sea');
    index.checkAndAdd('write a poem about the sea!');
    expect(index.size).toBe(1);
  });
});

describe('DedupIndex: near duplicates', () => {
  it('finds a near duplicate with its similarity when it reaches the threshold', () => {
    const index = new DedupIndex(0.875);
    index.checkAndAdd(EIGHT);
    expect(index.check(EIGHT_CHANGED)).toMatchObject({ kind: 'near', of: EIGHT, similarity: 0.875 });
  });

  it('does not flag a pair just below the threshold', () => {
    const index = new DedupIndex(0.876);
    index.checkAndAdd(EIGHT);
    expect(index.check(EIGHT_CHANGED)).toEqual({ kind: 'unique' });
  });

  it('reports the most similar of several kept inputs', () => {
    const index = new DedupIndex(0.7);
    const far = 'Plan a weekend cycling trip through Welsh valleys';
    expect(index.checkAndAdd(far).kind).toBe('unique');
    expect(index.checkAndAdd(EIGHT).kind).toBe('unique'); // 5 of 8 words shared with far: 0.625
    expect(index.check(EIGHT_CHANGED.replace('hiking', 'cycling'))).toMatchObject({ kind: 'near', of: far });
    const verdict = index.check(EIGHT_CHANGED);
    expect(verdict).toMatchObject({ kind: 'near', of: EIGHT, similarity: 0.875 });
  });

  it('a near duplicate is not kept, so a third copy is judged against the original', () => {
    const index = new DedupIndex(0.8);
    index.checkAndAdd(EIGHT);
    expect(index.checkAndAdd(EIGHT_CHANGED).kind).toBe('near');
    expect(index.size).toBe(1);
    // The same text as the rejected one: not an exact duplicate of it (it was never kept), a near one of the original.
    expect(index.checkAndAdd('Plan a weekend hiking trip through Welsh highlands!')).toEqual({
      kind: 'near',
      of: EIGHT,
      entry: 0,
      similarity: 0.875,
    });
  });

  it('keeps unrelated inputs as unique', () => {
    const index = new DedupIndex(0.5);
    const inputs = [
      'How do I reset my password?',
      'Summarise this article about ocean tides in three sentences.',
      'Translate "good morning, how are you" into Portuguese.',
      'What is a good name for a ginger cat?',
      'Write a cover letter for a junior data analyst role at a bank.',
      'Explain recursion to a ten-year-old using a story.',
      'My invoice shows a double charge for March; please refund one.',
      'Suggest a vegetarian dinner for six people that takes under an hour.',
    ];
    for (const input of inputs) expect(index.checkAndAdd(input)).toEqual({ kind: 'unique' });
    expect(index.size).toBe(inputs.length);
  });

  it('short inputs made only of function words still dedupe', () => {
    const index = new DedupIndex(0.7);
    index.checkAndAdd('What is it?');
    expect(index.check('what is it')).toMatchObject({ kind: 'exact', of: 'What is it?' });
    expect(index.check('Where is it?').kind).toBe('unique'); // 2 of 3 words: F1 0.67 < 0.7
    index.checkAndAdd('what is it that you do');
    expect(index.check('What is it that we do?')).toMatchObject({ kind: 'near', of: 'what is it that you do', similarity: expect.closeTo(5 / 6, 12) });
  });
});

describe('DedupIndex: seeds added with add count as taken', () => {
  it('rejects copies and near copies of seeds', () => {
    const seeds = ['Draft a polite reminder to a tenant about the overdue rent for October', EIGHT];
    const index = new DedupIndex(0.75);
    for (const seed of seeds) index.add(seed);
    expect(index.size).toBe(2);
    expect(index.check('draft a polite reminder to a tenant about the overdue rent for october!')).toEqual({
      kind: 'exact',
      of: seeds[0],
      entry: 0,
    });
    const near = index.check('Draft a polite reminder to a tenant about the overdue rent for November');
    expect(near).toMatchObject({ kind: 'near', of: seeds[0] });
    expect((near as Extract<DedupVerdict, { kind: 'near' }>).similarity).toBeCloseTo(12 / 13, 12);
    expect(index.checkAndAdd(EIGHT_CHANGED)).toMatchObject({ kind: 'near', of: EIGHT });
  });

  it('add of an exact duplicate does not create a second entry', () => {
    const index = new DedupIndex(0.75);
    index.add('Same seed');
    index.add('same seed!');
    expect(index.size).toBe(1);
  });
});

describe('DedupIndex: recall and false positives on a generated corpus', () => {
  const random = seededRandom(424242);
  const vocabulary = makeVocabulary(3000, random);
  const base = Array.from({ length: 2000 }, () => makeSentence(vocabulary, 12 + Math.floor(random() * 7), random));
  // 200 near duplicates of earlier sentences, one or two words changed, mixed in after their originals.
  const planted = new Map<number, { text: string; of: string }>();
  const stream: Array<{ text: string; plantedOf: string | null }> = [];
  {
    let next = 0;
    const plantAt = new Set<number>();
    while (plantAt.size < 200) plantAt.add(100 + Math.floor(random() * 1900));
    for (let i = 0; i < base.length; i++) {
      stream.push({ text: base[i]!, plantedOf: null });
      if (plantAt.has(i)) {
        const of = base[Math.floor(random() * (i + 1))]!;
        const text = mutateSentence(of, 1 + Math.floor(random() * 2), vocabulary, random);
        planted.set(next++, { text, of });
        stream.push({ text, plantedOf: of });
      }
    }
  }

  it('finds at least 95% of the planted near duplicates at threshold 0.7, and few false positives', () => {
    const index = new DedupIndex(0.7);
    let found = 0;
    let falsePositives = 0;
    for (const item of stream) {
      const verdict = index.checkAndAdd(item.text);
      if (item.plantedOf !== null) {
        if (verdict.kind === 'near' || verdict.kind === 'exact') {
          found++;
          expect(verdict.of).toBe(item.plantedOf);
        }
      } else if (verdict.kind !== 'unique') {
        falsePositives++;
      }
    }
    expect(planted.size).toBe(200);
    expect(found).toBeGreaterThanOrEqual(190);
    expect(falsePositives).toBeLessThanOrEqual(10); // 0.5% of 2,000 clearly different sentences
    expect(index.size).toBe(2000 - falsePositives + (planted.size - found)); // every miss was added
  });

  it('two indexes fed the same items give the same verdicts', () => {
    const a = new DedupIndex(0.7);
    const b = new DedupIndex(0.7);
    const verdictsA = stream.map((item) => a.checkAndAdd(item.text));
    const verdictsB = stream.map((item) => b.checkAndAdd(item.text));
    expect(verdictsB).toEqual(verdictsA);
  });

  it('an index rebuilt with add from the kept items judges new items as the original does', () => {
    const original = new DedupIndex(0.7);
    const kept: string[] = [];
    const half = Math.floor(stream.length / 2);
    for (const item of stream.slice(0, half)) {
      if (original.checkAndAdd(item.text).kind === 'unique') kept.push(item.text);
    }
    const rebuilt = new DedupIndex(0.7);
    for (const text of kept) rebuilt.add(text);
    expect(rebuilt.size).toBe(original.size);
    const rest = stream.slice(half).map((item) => item.text);
    // Probes also include copies of the kept items themselves.
    const probes = [...rest, ...kept.slice(0, 50), ...kept.slice(0, 50).map((t) => mutateSentence(t, 1, vocabulary, random))];
    const fromOriginal = probes.map((text) => original.checkAndAdd(text));
    const fromRebuilt = probes.map((text) => rebuilt.checkAndAdd(text));
    expect(fromRebuilt).toEqual(fromOriginal);
    expect(fromOriginal.filter((v) => v.kind === 'exact')).toHaveLength(50);
  });
});

describe('DedupIndex.checkCandidate and addIfUnique', () => {
  const a = 'alpha bravo charlie delta echo foxtrot golf hotel';
  const nearA = 'alpha bravo charlie delta echo foxtrot golf india';

  it('adds a candidate still unique, and refuses one that an entry added since has made a duplicate', () => {
    const index = new DedupIndex(0.7);
    const first = index.checkCandidate(a);
    const second = index.checkCandidate(nearA);
    expect(first.verdict.kind).toBe('unique');
    expect(second.verdict.kind).toBe('unique'); // neither is in the index yet
    expect(index.addIfUnique(first).kind).toBe('unique');
    expect(index.addIfUnique(second)).toMatchObject({ kind: 'near', of: a });
    expect(index.size).toBe(1);
  });

  it('answers the first verdict for a candidate that was already a duplicate or empty', () => {
    const index = new DedupIndex(0.7);
    index.add(a);
    const dup = index.checkCandidate(`  ${a.toUpperCase()}!`);
    expect(index.addIfUnique(dup)).toMatchObject({ kind: 'exact', of: a });
    expect(index.addIfUnique(index.checkCandidate('...'))).toEqual({ kind: 'empty' });
    expect(index.size).toBe(1);
  });

  it('judges like checkAndAdd over a whole corpus', () => {
    const twoStep = new DedupIndex(0.7);
    const oneStep = new DedupIndex(0.7);
    const texts = Array.from({ length: 300 }, (_, i) => `word${i % 37} word${i % 11} word${i % 7} shared tail item ${i % 50}`);
    for (const text of texts) {
      expect(twoStep.addIfUnique(twoStep.checkCandidate(text)).kind).toBe(oneStep.checkAndAdd(text).kind);
    }
    expect(twoStep.size).toBe(oneStep.size);
  });
});

describe('DedupIndex: invisible format characters (Cf) inside words', () => {
  /** `text` with `c` inside every word of two or more letters. */
  const hide = (text: string, c: string) => text.replace(/\p{L}{2,}/gu, (word) => `${word.slice(0, 1)}${c}${word.slice(1)}`);
  const INVISIBLE = ['\u200B', '\u00AD', '\u2060', '\u200E', '\u200F', '\uFEFF', '\u200C\u200D'];

  it('"hel\\u200Blo wor\\u00ADld" is an exact duplicate of "hello world"', () => {
    const index = new DedupIndex(0.7);
    index.checkAndAdd('hello world');
    expect(index.check('hel\u200Blo wor\u00ADld')).toMatchObject({ kind: 'exact', of: 'hello world' });
  });

  it.each(INVISIBLE.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))(
    'finds exact duplicates with %s inside the words',
    (_name, c) => {
      const index = new DedupIndex(0.7);
      const original = 'How do I reset my password?';
      expect(index.checkAndAdd(original)).toEqual({ kind: 'unique' });
      expect(index.checkAndAdd(hide(original, c))).toMatchObject({ kind: 'exact', of: original });
      expect(index.checkAndAdd(`How do I re${c}set my pass${c}word?`)).toMatchObject({ kind: 'exact', of: original });
      expect(index.size).toBe(1);
    },
  );

  it.each(INVISIBLE.map((c) => [`U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, c]))(
    'finds near duplicates with %s inside the words, at the similarity of the visible text',
    (_name, c) => {
      const index = new DedupIndex(0.875);
      index.checkAndAdd(EIGHT);
      expect(index.check(hide(EIGHT_CHANGED, c))).toMatchObject({ kind: 'near', of: EIGHT, similarity: 0.875 });
    },
  );

  it('mixed invisible characters, and seeds that carry them, fold the same way', () => {
    const index = new DedupIndex(0.7);
    const seed = 'Plan\u200B a wee\u00ADkend hik\u2060ing trip through Scot\uFEFFtish high\u200Elands';
    index.add(seed);
    expect(index.check(EIGHT)).toMatchObject({ kind: 'exact', of: seed });
    expect(index.check(`\u200F${hide(EIGHT_CHANGED, '\u2060')}`)).toMatchObject({ kind: 'near', of: seed });
  });

  it('an input made only of invisible characters is empty, not a new input', () => {
    const index = new DedupIndex(0.7);
    expect(index.checkAndAdd('\u200B\u2060\uFEFF')).toEqual({ kind: 'empty' });
    expect(index.size).toBe(0);
  });
});

describe('DedupIndex: the nearest entry of a unique input', () => {
  it('names the most similar entry below the threshold, down to NEAREST_FLOOR, when asked', () => {
    const index = new DedupIndex(0.9);
    index.add('Plan a weekend hiking trip through the Scottish highlands in October');
    index.add('Write a haiku about rain on a tin roof');
    const close = index.checkCandidate('Plan a weekend cycling trip through the Scottish highlands in May', { nearest: true });
    expect(close.verdict.kind).toBe('unique');
    const nearest = (close.verdict as Extract<DedupVerdict, { kind: 'unique' }>).nearest!;
    expect(nearest.entry).toBe(0);
    expect(nearest.similarity).toBeGreaterThanOrEqual(NEAREST_FLOOR);
    expect(nearest.similarity).toBeLessThan(0.9);
    // Not asked: no nearest; nothing similar: none.
    expect(index.checkCandidate('Plan a weekend cycling trip through the Scottish highlands in May').verdict).toEqual({ kind: 'unique' });
    expect((index.checkCandidate('Summarise the quarterly sales report for the board', { nearest: true }).verdict as { nearest?: unknown }).nearest).toBeUndefined();
  });

  it('addIfUnique keeps the closer of the two judgements', () => {
    const index = new DedupIndex(0.9);
    index.add('Plan a weekend hiking trip through the Scottish highlands in October');
    const candidate = index.checkCandidate('Plan a weekend cycling trip through the Welsh highlands in May', { nearest: true });
    index.add('Plan a weekend cycling trip through the Welsh hills in June');
    const added = index.addIfUnique(candidate) as Extract<DedupVerdict, { kind: 'unique' }>;
    expect(added.kind).toBe('unique');
    expect(added.nearest!.entry).toBe(1);
  });
});
