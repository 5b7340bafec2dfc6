import {
  DedupIndex,
  EXPLORATION_MODES,
  MODE_SETTINGS,
  OfflineGenerator,
  normalizeText,
  rougeLF1,
  sampleShots,
  seededRandom,
  tokenize,
  type ExplorationMode,
  type GenerateBatchRequest,
  type Random,
} from '@datagen/core';

interface App {
  description: string;
  seeds: string[];
}

const STORY: App = {
  description: "Write a children's story communicating a simple life lesson.",
  seeds: ['Write a story about a brave little turtle who learns to share.', 'Tell me a bedtime story about a dragon who is afraid of the dark.'],
};

const SQL: App = {
  description: "Answer questions about a company's sales database by writing SQL",
  seeds: ['Which region had the highest revenue last quarter?', 'How many orders did each customer place in March?'],
};

function batchRequest(app: App, mode: ExplorationMode, overrides: Partial<GenerateBatchRequest> = {}): GenerateBatchRequest {
  return {
    system: 'system prompt, for LLMs only',
    prompt: 'user prompt, for LLMs only',
    count: 5,
    temperature: MODE_SETTINGS[mode].temperature.min,
    context: { applicationDescription: app.description, shots: app.seeds, seeds: app.seeds, explorationMode: mode, batchNumber: 1 },
    ...overrides,
  };
}

/** Candidates as strings; the generator promises strings, the interface allows anything. */
async function generate(generator: OfflineGenerator, request: GenerateBatchRequest): Promise<string[]> {
  const result = await generator.generateBatch(request);
  expect(Array.isArray(result.candidates)).toBe(true);
  const candidates = result.candidates as unknown[];
  for (const candidate of candidates) expect(typeof candidate).toBe('string');
  return candidates as string[];
}

/** Token ids shared across one measurement, as `rougeLF1` compares numbers. */
function tokenizer(): (text: string) => Int32Array {
  const ids = new Map<string, number>();
  return (text) =>
    Int32Array.from(
      tokenize(text).map((word) => {
        let id = ids.get(word);
        if (id === undefined) ids.set(word, (id = ids.size));
        return id;
      }),
    );
}

function meanPairwiseRougeL(texts: string[]): number {
  const ids = tokenizer();
  const tokens = texts.map(ids);
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < tokens.length; i++) {
    for (let j = i + 1; j < tokens.length; j++) {
      sum += rougeLF1(tokens[i]!, tokens[j]!);
      pairs++;
    }
  }
  return sum / pairs;
}

/** How close, on average, each text stays to its nearest seed. */
function meanClosenessToSeeds(texts: string[], seeds: string[]): number {
  const ids = tokenizer();
  const seedTokens = seeds.map(ids);
  let sum = 0;
  for (const text of texts) {
    const tokens = ids(text);
    sum += Math.max(...seedTokens.map((seed) => rougeLF1(tokens, seed)));
  }
  return sum / texts.length;
}

/**
 * What the engine does with the generator, minus Redis: batches of 5, shots
 * drawn with `sampleShots`, the real dedup index at the mode's threshold with
 * the seeds taken, and a stop after 10 barren batches in a row. The
 * temperature stays at the bottom of the mode's band (the engine would warm
 * it when batches come back as duplicates, which only helps).
 */
async function fillJob(app: App, mode: ExplorationMode, target: number, random: Random) {
  const settings = MODE_SETTINGS[mode];
  const generator = new OfflineGenerator({ seed: 11 });
  const dedup = new DedupIndex(settings.nearDuplicateThreshold);
  for (const seed of app.seeds) dedup.add(seed);
  const accepted: string[] = [];
  let barrenStreak = 0;
  let longestBarrenStreak = 0;
  let batchNumber = 0;
  while (accepted.length < target && barrenStreak < 10) {
    batchNumber++;
    const shots = sampleShots(app.seeds, accepted, 5, settings, random);
    const candidates = await generate(
      generator,
      batchRequest(app, mode, { context: { applicationDescription: app.description, shots, seeds: app.seeds, explorationMode: mode, batchNumber } }),
    );
    let fresh = 0;
    for (const candidate of candidates) {
      if (accepted.length < target && dedup.checkAndAdd(candidate).kind === 'unique') {
        accepted.push(candidate);
        fresh++;
      }
    }
    barrenStreak = fresh === 0 ? barrenStreak + 1 : 0;
    longestBarrenStreak = Math.max(longestBarrenStreak, barrenStreak);
  }
  return { accepted, longestBarrenStreak, batchNumber };
}

describe('OfflineGenerator', () => {
  it('says it is the offline generator and not an LLM', () => {
    const generator = new OfflineGenerator();
    expect(generator.name).toBe('offline generator');
    expect(generator.isLlm).toBe(false);
  });

  it.each(EXPLORATION_MODES)('returns exactly `count` non-empty candidates, for 1 to 10, and no token usage (%s)', async (mode) => {
    const generator = new OfflineGenerator({ seed: 1 });
    for (let count = 1; count <= 10; count++) {
      const result = await generator.generateBatch(batchRequest(STORY, mode, { count }));
      expect(result.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
      const candidates = result.candidates as string[];
      expect(candidates).toHaveLength(count);
      for (const candidate of candidates) expect(candidate.trim().length).toBeGreaterThan(0);
    }
  });

  it.each(EXPLORATION_MODES)('never returns a seed or a near copy of one (%s)', async (mode) => {
    const generator = new OfflineGenerator({ seed: 2 });
    const threshold = MODE_SETTINGS[mode].nearDuplicateThreshold;
    for (const app of [STORY, SQL]) {
      const ids = tokenizer();
      const seedTokens = app.seeds.map(ids);
      const seedTexts = new Set(app.seeds.map(normalizeText));
      for (let batchNumber = 1; batchNumber <= 20; batchNumber++) {
        const context = { applicationDescription: app.description, shots: app.seeds, seeds: app.seeds, explorationMode: mode, batchNumber };
        for (const candidate of await generate(generator, batchRequest(app, mode, { count: 10, context }))) {
          expect(seedTexts.has(normalizeText(candidate))).toBe(false);
          for (const seed of seedTokens) expect(rougeLF1(ids(candidate), seed)).toBeLessThan(threshold);
        }
      }
    }
  });

  it('reads the context, not the prompt', async () => {
    const request = batchRequest(STORY, 'BALANCED');
    const withOtherPrompt = { ...request, system: 'something else', prompt: 'Write 5 inputs about submarines.' };
    const a = await generate(new OfflineGenerator({ seed: 3 }), request);
    const b = await generate(new OfflineGenerator({ seed: 3 }), withOtherPrompt);
    expect(b).toEqual(a);
  });

  it('varies between calls with the same context, and repeats itself only with the same seed', async () => {
    const generator = new OfflineGenerator({ seed: 4 });
    const first = await generate(generator, batchRequest(STORY, 'CONSERVATIVE'));
    const second = await generate(generator, batchRequest(STORY, 'CONSERVATIVE'));
    expect(second).not.toEqual(first);
    expect(await generate(new OfflineGenerator({ seed: 4 }), batchRequest(STORY, 'CONSERVATIVE'))).toEqual(first);
  });

  it('writes plausible first seeds from the description alone when there are no seeds', async () => {
    const generator = new OfflineGenerator({ seed: 5 });
    const cases: Array<{ description: string; mentions: RegExp }> = [
      { description: STORY.description, mentions: /\b(story|tale|fable|poem|lullaby)\b/i },
      { description: SQL.description, mentions: /\b(which|what|how|show|list|compare|rank|break down)\b/i },
      { description: 'A recipe assistant that suggests dinners from what is in the fridge', mentions: /\b(dinners|fridge)\b/i },
    ];
    for (const { description, mentions } of cases) {
      const context = { applicationDescription: description, shots: [], seeds: [], explorationMode: 'BALANCED' as const, batchNumber: 1 };
      const seeds = await generate(generator, batchRequest(STORY, 'BALANCED', { context }));
      expect(seeds).toHaveLength(5);
      expect(new Set(seeds.map(normalizeText)).size).toBe(5);
      for (const seed of seeds) {
        expect(seed).toMatch(mentions);
        expect(tokenize(seed).length).toBeGreaterThanOrEqual(5);
        expect(seed).toMatch(/^\p{Lu}.*[.?!]$/u); // a sentence, as a user would type it
      }
    }
  });

  it('keeps each application in its own vocabulary', async () => {
    const generator = new OfflineGenerator({ seed: 6 });
    for (const mode of EXPLORATION_MODES) {
      for (let batchNumber = 1; batchNumber <= 10; batchNumber++) {
        const sqlContext = { applicationDescription: SQL.description, shots: SQL.seeds, seeds: SQL.seeds, explorationMode: mode, batchNumber };
        for (const input of await generate(generator, batchRequest(SQL, mode, { count: 10, context: sqlContext }))) {
          expect(input).not.toMatch(/\b(story|dragon|turtle|bedtime|fable|rhyme)\b/i);
        }
        const storyContext = { applicationDescription: STORY.description, shots: STORY.seeds, seeds: STORY.seeds, explorationMode: mode, batchNumber };
        for (const input of await generate(generator, batchRequest(STORY, mode, { count: 10, context: storyContext }))) {
          expect(input).not.toMatch(/\b(revenue|quarter|sql|region|query|python)\b/i);
        }
      }
    }
  });

  it('rejects with an AbortError when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new OfflineGenerator().generateBatch(batchRequest(STORY, 'BALANCED', { signal: controller.signal }))).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('rejects with an AbortError when the signal is aborted while the call is pending', async () => {
    const controller = new AbortController();
    const pending = new OfflineGenerator().generateBatch(batchRequest(STORY, 'BALANCED', { signal: controller.signal }));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(Error);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
  });

  describe.each([
    ['a story app', STORY],
    ['a SQL assistant', SQL],
  ] as const)('filling a job of 1,000 inputs from two seeds, for %s', (_name, app) => {
    it.each(EXPLORATION_MODES)('%s reaches 1,000 unique inputs without 10 barren batches in a row', async (mode) => {
      const job = await fillJob(app, mode, 1000, seededRandom(21));
      expect(job.accepted).toHaveLength(1000);
      expect(job.longestBarrenStreak).toBeLessThan(10);
      expect(new Set(job.accepted.map(normalizeText)).size).toBe(1000);
    });
  });

  it.each([
    ['a story app', STORY],
    ['a SQL assistant', SQL],
  ] as const)('gets more diverse, and further from the seeds, as the mode rises (%s)', async (_name, app) => {
    const diversity: number[] = [];
    const closeness: number[] = [];
    for (const mode of EXPLORATION_MODES) {
      const { accepted } = await fillJob(app, mode, 200, seededRandom(22));
      expect(accepted).toHaveLength(200);
      diversity.push(1 - meanPairwiseRougeL(accepted));
      closeness.push(meanClosenessToSeeds(accepted, app.seeds));
    }
    for (let i = 1; i < EXPLORATION_MODES.length; i++) {
      expect(diversity[i]).toBeGreaterThan(diversity[i - 1]!);
      expect(closeness[i]).toBeLessThan(closeness[i - 1]!);
    }
  });
});
