import type { Metrics } from '../metrics';
import { FatalLlmError, RetryableLlmError } from './errors';
import type { GenerateBatchRequest, GenerateBatchResult, LlmProvider } from './provider';

/** Wraps a provider to time its calls and count their tokens. */
export class MeteredProvider implements LlmProvider {
  readonly name: string;
  readonly isLlm: boolean;

  constructor(
    private readonly inner: LlmProvider,
    private readonly metrics: Metrics,
  ) {
    this.name = inner.name;
    this.isLlm = inner.isLlm;
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const stop = this.metrics.llmCallSeconds.startTimer({ provider: this.name });
    try {
      const result = await this.inner.generateBatch(request);
      stop({ outcome: 'ok' });
      this.metrics.llmTokens.inc({ provider: this.name, direction: 'input' }, result.usage.inputTokens);
      this.metrics.llmTokens.inc({ provider: this.name, direction: 'output' }, result.usage.outputTokens);
      return result;
    } catch (error) {
      stop({ outcome: outcomeOf(error, request.signal) });
      throw error;
    }
  }
}

function outcomeOf(error: unknown, signal: AbortSignal | undefined): string {
  if (signal?.aborted) return 'aborted';
  if (error instanceof FatalLlmError) return 'fatal';
  if (error instanceof RetryableLlmError && error.kind === 'rate_limit') return 'rate_limited';
  return 'failed';
}
