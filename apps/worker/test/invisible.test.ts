import type { GenerateBatchRequest, GenerateBatchResult, LlmProvider } from '@datagen/core';
import { startStack, submitJob, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider, uniqueSentence } from '../../../test/support/providers';

/**
 * A whole job through the real API, worker and Redis, with a model that
 * repeats inputs (the seeds and its own earlier ones) with invisible format
 * characters (Unicode category Cf) inside the words: the repeats look new
 * byte for byte, but none may be accepted.
 */

/** Zero-width space, soft hyphen, word joiner, LRM, RLM, BOM, ZWNJ, ZWJ, invisible times, RLO. */
const INVISIBLE = ['\u200B', '\u00AD', '\u2060', '\u200E', '\u200F', '\uFEFF', '\u200C', '\u200D', '\u2062', '\u202E'];

/** `text` with an invisible character inside each word of two letters or more, a different one each time. */
function hide(text: string, n: number): string {
  let k = n;
  return text.replace(/\p{L}{2,}/gu, (word) => {
    const at = 1 + (k % (word.length - 1));
    return word.slice(0, at) + INVISIBLE[k++ % INVISIBLE.length]! + word.slice(at);
  });
}

/** `text` without its last word: a near duplicate (ROUGE-L F1 of 0.89 to 0.95 on the inputs here). */
const withoutLastWord = (text: string) => text.replace(/\s+\S+$/, '?');

/**
 * Of every three inputs it writes, one is new, one repeats an earlier input
 * exactly and one nearly (its last word left out), both with invisible
 * characters inside the words. Repeats are of the seeds and of the new
 * inputs of earlier calls, which the job has accepted by then (one batch at
 * a time), so each is judged a duplicate as soon as it arrives.
 */
class InvisibleRepeater implements LlmProvider {
  readonly name = 'test provider repeating inputs with invisible characters';
  readonly isLlm = true;
  readonly fresh: string[] = [];
  readonly repeats: Array<{ kind: 'exact' | 'near'; text: string; of: string }> = [];
  /** Themes and the critic's verdicts ('good' for all). */
  private readonly helper = new SequenceProvider();
  private counter = 0;

  constructor(private readonly seeds: readonly string[]) {}

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const purpose = request.context.purpose;
    if (purpose === 'themes' || purpose === 'critique') return this.helper.generateBatch(request);
    const earlier = [...this.seeds, ...this.fresh];
    const inputs: string[] = [];
    for (let i = 0; i < request.count; i++) {
      const n = this.counter++;
      if (n % 3 === 0) {
        const text = uniqueSentence(n);
        this.fresh.push(text);
        inputs.push(text);
        continue;
      }
      const of = earlier[(n * 7) % earlier.length]!;
      const kind = n % 3 === 1 ? 'exact' : 'near';
      const text = hide(kind === 'exact' ? of : withoutLastWord(of), n);
      this.repeats.push({ kind, text, of });
      inputs.push(text);
    }
    return { candidates: { inputs }, usage: { inputTokens: 100, outputTokens: 20 * request.count } };
  }
}

/** What a reader sees: the text without Cf, case, whitespace and punctuation folded. */
const visible = (text: string) =>
  text
    .replace(/\p{Cf}/gu, '')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, ' ')
    .trim();

let stack: TestStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

it('accepts none of the inputs that repeat earlier ones or the seeds with invisible characters inside words, and still ends with exactly N', async () => {
  const seeds = ['Question: what is a lantern?', 'Question: how does a compass work?'];
  const provider = new InvisibleRepeater(seeds);
  stack = await startStack({ provider, env: { JOB_MAX_PARALLEL_BATCHES: '1' } });
  const n = 12;
  const jobId = await submitJob(stack, {
    application_description: 'Answer questions.',
    num_inputs_to_generate: n,
    seeds,
    exploration_mode: 'CONSERVATIVE',
    batch_size: 6,
  });
  const done = await waitForJobEnd(stack, jobId);

  expect(done.state).toBe('DONE');
  const data = done.data as string[];
  expect(data).toHaveLength(n);
  expect(new Set(data.map(visible)).size).toBe(n);
  // the repeats were written, with their invisible characters, of the seeds and of earlier inputs
  expect(provider.repeats.filter((r) => r.kind === 'exact').length).toBeGreaterThanOrEqual(n);
  expect(provider.repeats.filter((r) => r.kind === 'near').length).toBeGreaterThanOrEqual(n);
  expect(provider.repeats.every((r) => /\p{Cf}/u.test(r.text) && r.text !== r.of)).toBe(true);
  expect(provider.repeats.some((r) => seeds.includes(r.of))).toBe(true);
  // none of them was accepted: the data is the new inputs, in the order written
  const repeated = new Set(provider.repeats.map((r) => r.text));
  expect(data.filter((input) => repeated.has(input))).toEqual([]);
  expect(data.filter((input) => /\p{Cf}/u.test(input))).toEqual([]);
  expect(data).toEqual(provider.fresh.slice(0, n));
  // each was rejected as the duplicate it is, not by another filter
  expect(done.report.rejected).toEqual({
    exact_duplicate: provider.repeats.filter((r) => r.kind === 'exact').length,
    near_duplicate: provider.repeats.filter((r) => r.kind === 'near').length,
    filtered: 0,
    bad: 0,
  });
});
