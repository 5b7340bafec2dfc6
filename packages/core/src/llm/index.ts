import type { Config } from '../config';
import { AnthropicProvider } from './anthropic';
import { OfflineGenerator } from './offline/index';
import { OpenAICompatibleProvider } from './openai';
import type { LlmProvider } from './provider';

/** The provider the configuration asks for: Anthropic when a key is set, an OpenAI-compatible server when LLM_PROVIDER=openai, else the offline generator. */
export function createProvider(llmConfig: Config['llm']): LlmProvider {
  switch (llmConfig.provider) {
    case 'anthropic': {
      const { apiKey, baseURL, model, maxRetries, timeoutMs } = llmConfig;
      return new AnthropicProvider({ apiKey, baseURL, model, maxRetries, timeoutMs });
    }
    case 'openai': {
      const { apiKey, baseURL, model, maxRetries, timeoutMs, batchApi } = llmConfig;
      return new OpenAICompatibleProvider({ apiKey, baseURL, model, maxRetries, timeoutMs, batchApi });
    }
    case 'offline':
      return new OfflineGenerator();
    default: {
      const unknown: never = llmConfig;
      throw new Error(`unknown LLM provider: ${JSON.stringify(unknown)}`);
    }
  }
}
