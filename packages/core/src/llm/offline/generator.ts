/** The LlmProvider adapter of the offline generator: one seeded Random per call, then themes, verdicts or a batch of inputs. */

import { seededRandom, seedFromString } from '../../engine/random';
import type { GenerateBatchRequest, GenerateBatchResult, LlmProvider } from '../provider';
import { offlineThemes, offlineVerdicts } from './themesAndCritic';
import { BatchWriter } from './writer';

export interface OfflineGeneratorOptions {
  /** Fixes the generator's randomness (tests); by default every process differs. */
  seed?: number;
}

export class OfflineGenerator implements LlmProvider {
  readonly name = 'offline generator';
  readonly isLlm = false;
  private readonly salt: number;
  /** Counts calls, so two calls with the same context still differ. */
  private calls = 0;

  constructor(options: OfflineGeneratorOptions = {}) {
    this.salt = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    throwIfAborted(request.signal);
    // Yield once, so a job's batches never starve the event loop (cancel messages, shutdown).
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(request.signal);

    const { context } = request;
    const random = seededRandom(
      seedFromString(
        [this.salt, this.calls++, context.batchNumber, context.explorationMode, request.temperature, ...context.shots].join('\u0001'),
      ),
    );
    if (context.purpose === 'themes') return { candidates: offlineThemes(context, request.count, random), usage: NO_TOKENS };
    if (context.purpose === 'critique') return { candidates: offlineVerdicts(context), usage: NO_TOKENS };
    const writer = new BatchWriter(context, request.temperature, random);
    const candidates: string[] = [];
    for (let i = 0; i < request.count; i++) candidates.push(writer.next());
    return { candidates, usage: NO_TOKENS };
  }
}

const NO_TOKENS = { inputTokens: 0, outputTokens: 0 };

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  const error = new Error('The offline generation was aborted.');
  error.name = 'AbortError';
  throw error;
}
