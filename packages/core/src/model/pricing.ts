import type { TokenUsage } from './job';

/**
 * Estimated cost of a job's tokens. Prices are USD per million tokens; the
 * table covers common Anthropic models by name prefix, and
 * LLM_PRICE_INPUT_PER_MTOK / LLM_PRICE_OUTPUT_PER_MTOK override it (for other
 * models, other providers, or changed prices). Unknown models have no estimate.
 */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
}

const KNOWN_PRICES: Array<[prefix: string, price: Price]> = [
  ['claude-opus-4', { inputPerMTok: 15, outputPerMTok: 75 }],
  ['claude-sonnet-4', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-haiku-4', { inputPerMTok: 1, outputPerMTok: 5 }],
  ['claude-3-7-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-3-5-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-3-5-haiku', { inputPerMTok: 0.8, outputPerMTok: 4 }],
];

export const FREE: Price = { inputPerMTok: 0, outputPerMTok: 0 };

/** The price of a model: the override when given, else the table, else null (unknown). */
export function priceOf(model: string | null, override: Price | null): Price | null {
  if (override !== null) return override;
  if (model === null) return FREE; // the offline generator
  return KNOWN_PRICES.find(([prefix]) => model.startsWith(prefix))?.[1] ?? null;
}

export function estimateCostUsd(usage: TokenUsage, price: Price | null): number | null {
  if (price === null) return null;
  const cost = (usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1_000_000;
  return Math.round(cost * 1e6) / 1e6;
}
