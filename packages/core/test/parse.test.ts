import { cleanInput, MAX_INPUT_CHARS, parseBatch, seededRandom, type Random } from '@datagen/core';

describe('parseBatch: shapes a model may answer in', () => {
  it('takes an array of strings as it is', () => {
    expect(parseBatch(['How do I reset my password?', 'Cancel my order 1234.'])).toEqual({
      inputs: ['How do I reset my password?', 'Cancel my order 1234.'],
    });
  });

  it('takes the tool-use shape { inputs: [...] }', () => {
    expect(parseBatch({ inputs: ['first input', 'second input'] })).toEqual({ inputs: ['first input', 'second input'] });
  });

  it('takes other wrapper keys and the first array of an unknown wrapper', () => {
    expect(parseBatch({ items: ['a one', 'a two'] }).inputs).toEqual(['a one', 'a two']);
    expect(parseBatch({ results: ['r one', 'r two'] }).inputs).toEqual(['r one', 'r two']);
  });

  it('takes an array of one-field objects [{ input: ... }]', () => {
    expect(parseBatch([{ input: 'first' }, { input: 'second' }, { text: 'third' }]).inputs).toEqual([
      'first',
      'second',
      'third',
    ]);
  });

  it('drops non-string items of an array', () => {
    expect(parseBatch(['kept', null, 42, undefined, true, { n: 1 }, 'also kept']).inputs).toEqual(['kept', 'also kept']);
  });

  it('parses JSON text, both an array and a wrapped object', () => {
    expect(parseBatch('["alpha input", "beta input"]').inputs).toEqual(['alpha input', 'beta input']);
    expect(parseBatch('{"inputs": ["alpha input", "beta \\"quoted\\" input"]}').inputs).toEqual([
      'alpha input',
      'beta "quoted" input',
    ]);
  });

  it('parses JSON inside a code fence', () => {
    const fenced = '```json\n{"inputs": ["one from a fence", "two from a fence"]}\n```';
    expect(parseBatch(fenced).inputs).toEqual(['one from a fence', 'two from a fence']);
    expect(parseBatch('```\n["bare fence"]\n```').inputs).toEqual(['bare fence']);
  });

  it('salvages the complete items of a JSON array cut off mid-way', () => {
    expect(parseBatch('["complete one", "complete two", "cut off in the mid').inputs).toEqual([
      'complete one',
      'complete two',
    ]);
    expect(parseBatch('{"inputs": ["wrapped one", "with \\"escapes\\" and, commas", "trunc').inputs).toEqual([
      'wrapped one',
      'with "escapes" and, commas',
    ]);
    expect(parseBatch('```json\n["fenced and complete", "fenced but cu').inputs).toEqual(['fenced and complete']);
  });

  it('a truncated JSON answer with no complete item is a problem, not a crash', () => {
    const parsed = parseBatch('{"inputs": ["never finish');
    expect(parsed.inputs).toEqual([]);
    expect(parsed.problem).toEqual(expect.any(String));
  });

  it('reads plain text as one input per line, stripping numbers and bullets', () => {
    const text = [
      '1. Summarise this article about tides.',
      '2) Translate "good morning" into French.',
      '',
      '- What is a good name for a cat?',
      '* Plan a three-day trip to Lisbon.',
      '• Explain recursion to a child.',
      '10: Write a limerick about rain.',
    ].join('\n');
    expect(parseBatch(text).inputs).toEqual([
      'Summarise this article about tides.',
      'Translate "good morning" into French.',
      'What is a good name for a cat?',
      'Plan a three-day trip to Lisbon.',
      'Explain recursion to a child.',
      'Write a limerick about rain.',
    ]);
  });

  it('handles Windows line endings', () => {
    expect(parseBatch('first line\r\nsecond line\r\n').inputs).toEqual(['first line', 'second line']);
  });

  it('strips numbering and wrapping quotes inside arrays too', () => {
    expect(parseBatch(['1. "Quoted and numbered"', '“Curly quoted”', "'single'", '`backticked`']).inputs).toEqual([
      'Quoted and numbered',
      'Curly quoted',
      'single',
      'backticked',
    ]);
  });

  it('keeps quotes that do not wrap the whole input', () => {
    expect(cleanInput('"Hello", she said, "goodbye"')).toBe('"Hello", she said, "goodbye"');
    expect(cleanInput('Translate "bonjour" please')).toBe('Translate "bonjour" please');
  });

  it('keeps an input that merely starts with a number or a word', () => {
    expect(cleanInput('2024 was a leap year; how many days did it have?')).toBe('2024 was a leap year; how many days did it have?');
    expect(cleanInput('3.5 kg in pounds?')).toBe('3.5 kg in pounds?');
  });
});

describe('parseBatch: answers with nothing usable', () => {
  it('an empty array, empty strings or blank text are a problem', () => {
    for (const empty of [[], ['', '   ', '\n'], '', '   ', '```\n```', { inputs: [] }, ['""', '1. ']]) {
      const parsed = parseBatch(empty);
      expect(parsed.inputs).toEqual([]);
      expect(parsed.problem).toMatch(/no inputs|empty/);
    }
  });

  it('null, undefined, numbers, booleans and wrappers without a list are a problem', () => {
    for (const value of [null, undefined, 0, 42, NaN, true, false, {}, { inputs: null }, { inputs: 7 }, Symbol('x'), 10n]) {
      const parsed = parseBatch(value);
      expect(parsed.inputs).toEqual([]);
      expect(parsed.problem).toEqual(expect.any(String));
    }
  });

  it('a refusal is a problem that says the model refused, not an input', () => {
    const refusals: unknown[] = [
      "I'm sorry, but I can't help with that request.",
      'I cannot create inputs of this kind.',
      'Sorry, I am unable to generate this content.',
      "I can't assist with generating these inputs. If you'd like, I can help with something else.",
      "I'm sorry, but I can't help with that.\nIf you want, I could write inputs for a different application.",
      'As an AI language model, I will not produce this.',
      'I’m sorry, but I can’t write these.', // typographic apostrophes
    ];
    for (const refusal of refusals) {
      const parsed = parseBatch(refusal);
      expect(parsed.inputs).toEqual([]);
      expect(parsed.problem).toMatch(/refus/);
    }
  });

  it('inputs in a structured list that begin like a refusal are still inputs', () => {
    const inputs = ["I can't log into my account, what should I do?", "Sorry, wrong order number: it's 5512.", 'Where is my refund?'];
    expect(parseBatch({ inputs })).toEqual({ inputs });
    expect(parseBatch(inputs)).toEqual({ inputs });
  });
});

describe('parseBatch: limits and robustness', () => {
  it('caps an over-long input at MAX_INPUT_CHARS', () => {
    const long = 'word '.repeat(MAX_INPUT_CHARS); // five times the cap
    const parsed = parseBatch([long, 'short one']);
    expect(parsed.inputs).toHaveLength(2);
    expect(parsed.inputs[0]!.length).toBe(MAX_INPUT_CHARS);
    expect(parsed.inputs[1]).toBe('short one');
    expect(parseBatch('x'.repeat(MAX_INPUT_CHARS + 10)).inputs[0]).toHaveLength(MAX_INPUT_CHARS);
  });

  it('returned inputs are always trimmed, non-empty and within the cap', () => {
    const parsed = parseBatch(['  padded  ', '\t"quoted with space"  ', '- bullet ']);
    expect(parsed.inputs).toEqual(['padded', 'quoted with space', 'bullet']);
  });

  it('deeply nested or cyclic wrappers do not crash', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['data'] = cyclic;
    expect(() => parseBatch(cyclic)).not.toThrow();
    expect(parseBatch(cyclic).problem).toEqual(expect.any(String));
    const deep = { inputs: { items: { data: { examples: { seeds: { inputs: ['too deep'] } } } } } };
    expect(() => parseBatch(deep)).not.toThrow();
  });

  it('never throws on random junk, and what it returns is well formed', () => {
    const random = seededRandom(20240611);
    for (let i = 0; i < 3000; i++) {
      const value = junk(random, 0);
      let parsed: ReturnType<typeof parseBatch> | undefined;
      expect(() => {
        parsed = parseBatch(value);
      }).not.toThrow();
      const p = parsed!;
      expect(Array.isArray(p.inputs)).toBe(true);
      if (p.inputs.length === 0) expect(typeof p.problem).toBe('string');
      else expect(p.problem).toBeUndefined();
      for (const input of p.inputs) {
        expect(typeof input).toBe('string');
        expect(input).not.toBe('');
        expect(input).toBe(input.trim());
        expect(input.length).toBeLessThanOrEqual(MAX_INPUT_CHARS);
      }
    }
  });
});

const JUNK_CHARS = ['"', '\\', '[', ']', '{', '}', ',', ':', '\n', ' ', '`', '1', '.', ')', '-', '*', 'a', 'Z', 'é', '😀', '\u0000', '“', '”'];

function junkString(random: Random): string {
  const n = Math.floor(random() * 40);
  let s = random() < 0.3 ? '["' : random() < 0.2 ? '```json\n{"inputs": ["' : '';
  for (let i = 0; i < n; i++) s += JUNK_CHARS[Math.floor(random() * JUNK_CHARS.length)];
  return s;
}

function junk(random: Random, depth: number): unknown {
  const r = random();
  if (depth > 3 || r < 0.35) {
    const kinds: Array<() => unknown> = [
      () => junkString(random),
      () => null,
      () => undefined,
      () => Math.floor(random() * 1000) - 500,
      () => random() < 0.5,
      () => NaN,
      () => Symbol('junk'),
      () => BigInt(7),
      () => new Date(0),
      () => new Map([[1, 'x']]),
    ];
    return kinds[Math.floor(random() * kinds.length)]!();
  }
  if (r < 0.7) return Array.from({ length: Math.floor(random() * 6) }, () => junk(random, depth + 1));
  const keys = ['inputs', 'items', 'data', 'input', 'text', 'seeds', 'other'];
  const object: Record<string, unknown> = {};
  const n = Math.floor(random() * 3);
  for (let i = 0; i < n; i++) object[keys[Math.floor(random() * keys.length)]!] = junk(random, depth + 1);
  return object;
}

describe('framing lines around a text list', () => {
  it('drops the preamble and keeps the inputs', () => {
    const parsed = parseBatch('Sure! Here are 3 new inputs:\n1. First one\n2. Second one\n3. Third one');
    expect(parsed.inputs).toEqual(['First one', 'Second one', 'Third one']);
  });

  it('keeps an input that merely ends with a colon', () => {
    expect(parseBatch('Write a poem with this title:\nList three fruits').inputs).toEqual(['Write a poem with this title:', 'List three fruits']);
  });
});
