import { seededRandom, type GenerateBatchRequest, type GenerateBatchResult, type LlmProvider } from '@datagen/core';

/**
 * Small providers for service tests, where what matters is the service
 * around the engine: each writes distinct, unrelated inputs from a large
 * vocabulary, optionally slowly, and records the calls it saw.
 */
const WORDS = (
  'apple river mountain violin castle rocket garden pencil ocean thunder lantern whisper meadow ' +
  'copper falcon harbor puzzle marble velvet canyon glacier orchard compass saddle beacon timber ' +
  'quartz nectar fossil prairie lagoon ember cobalt walrus tundra mosaic sapphire bramble quiver ' +
  'zephyr cactus goblet raven sequoia parsley dynamo kettle lilac nomad oyster pepper quill'
).split(' ');

export class SequenceProvider implements LlmProvider {
  readonly name = 'test sequence provider';
  readonly isLlm = true;
  /** Every call, for inputs and otherwise (themes, critique). */
  allCalls: GenerateBatchRequest[] = [];
  aborted = 0;
  private counter = 0;

  constructor(private readonly options: { latencyMs?: number; decorate?: (text: string, n: number) => string } = {}) {}

  /** The calls that asked for inputs (or first seeds): one per batch. */
  get calls(): GenerateBatchRequest[] {
    return this.allCalls.filter((call) => call.context.purpose !== 'themes' && call.context.purpose !== 'critique');
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    this.allCalls.push(request);
    if (this.options.latencyMs) await abortableDelay(this.options.latencyMs, request.signal, () => this.aborted++);
    const usage = { inputTokens: 100, outputTokens: 20 * request.count };
    // Themes and verdicts do not use up the sequence, so inputs stay predictable.
    if (request.context.purpose === 'themes') return { candidates: { inputs: Array.from({ length: request.count }, (_, i) => `theme ${i + 1}`) }, usage };
    if (request.context.purpose === 'critique') return { candidates: { inputs: (request.context.toJudge ?? []).map(() => 'good') }, usage };
    const inputs = Array.from({ length: request.count }, () => {
      const n = this.counter++;
      const text = uniqueSentence(n);
      return this.options.decorate ? this.options.decorate(text, n) : text;
    });
    return { candidates: { inputs }, usage };
  }
}

/** A sentence that shares at most a few words, in another order, with the sentence of any other n. */
export function uniqueSentence(n: number): string {
  const random = seededRandom(n + 1);
  const words = Array.from({ length: 9 }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  return `Question ${n}: ${words.join(' ')}?`;
}

function abortableDelay(ms: number, signal: AbortSignal | undefined, onAbort: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      clearTimeout(timer);
      onAbort();
      const error = new Error('aborted');
      error.name = 'AbortError';
      reject(error);
    };
    // The listener goes when the delay ends: a job's calls share one signal, which would gather them.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
