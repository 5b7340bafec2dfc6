import type { JobUsage } from './job';

/**
 * Estimated cost of a job's tokens. Prices are USD per million tokens; the
 * table covers common Anthropic models by name prefix (the default model,
 * claude-sonnet-5-5, included). LLM_PRICES adds or replaces entries by
 * prefix, and LLM_PRICE_INPUT_PER_MTOK / LLM_PRICE_OUTPUT_PER_MTOK override
 * the configured model's price outright. A model of unknown price has no
 * estimate, and the job's report says so.
 *
 * Prompt caching: a cache write costs `cacheWritePerMTok` (1.25 x input by
 * default, Anthropic's 5-minute cache), a cache read `cacheReadPerMTok` (0.1 x
 * input). Tokens sent through a provider's batch API cost `1 - batchDiscount`
 * of the price (Anthropic's Message Batches and OpenAI's Batch API: 50 % off).
 */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Default: 1.25 x inputPerMTok. */
  cacheWritePerMTok?: number;
  /** Default: 0.1 x inputPerMTok. */
  cacheReadPerMTok?: number;
  /** Share taken off tokens sent through the batch API; default 0.5. */
  batchDiscount?: number;
}

const KNOWN_PRICES: ReadonlyArray<readonly [prefix: string, price: Price]> = [
  ['claude-opus-4', { inputPerMTok: 15, outputPerMTok: 75 }],
  ['claude-sonnet-5', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-sonnet-4', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-haiku-4', { inputPerMTok: 1, outputPerMTok: 5 }],
  ['claude-3-7-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-3-5-sonnet', { inputPerMTok: 3, outputPerMTok: 15 }],
  ['claude-3-5-haiku', { inputPerMTok: 0.8, outputPerMTok: 4 }],
];

export const FREE: Price = { inputPerMTok: 0, outputPerMTok: 0, cacheWritePerMTok: 0, cacheReadPerMTok: 0 };

export const DEFAULT_BATCH_DISCOUNT = 0.5;

/**
 * The price of a model: the override when given, else the longest matching
 * prefix of `extra` (LLM_PRICES) and the table, else null (unknown).
 */
export function priceOf(model: string | null, override: Price | null, extra: Readonly<Record<string, Price>> = {}): Price | null {
  if (override !== null) return override;
  if (model === null) return FREE; // the offline generator
  const entries: Array<readonly [string, Price]> = [...Object.entries(extra), ...KNOWN_PRICES];
  let best: readonly [string, Price] | undefined;
  for (const entry of entries) {
    if (model.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1] ?? null;
}

/** Tokens as billed: input (all of it, cache reads and writes included), output, and the cached parts. */
interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

function listCost(t: Tokens, price: Price): number {
  const uncached = Math.max(0, t.input - t.cacheRead - t.cacheWrite);
  const write = price.cacheWritePerMTok ?? price.inputPerMTok * 1.25;
  const read = price.cacheReadPerMTok ?? price.inputPerMTok * 0.1;
  return (uncached * price.inputPerMTok + t.cacheWrite * write + t.cacheRead * read + t.output * price.outputPerMTok) / 1_000_000;
}

export interface CostEstimate {
  /** What the job's tokens cost, discount applied. */
  costUsd: number;
  /** What the batch API took off (0 for interactive jobs). */
  discountUsd: number;
  /** What caching saved against sending every cached token at the input price (negative: writes cost more than reads saved). */
  cacheSavingsUsd: number;
}

const usd = (x: number) => Math.round(x * 1e6) / 1e6;

/** The cost of a job's usage at a price; null when the price is unknown. */
export function estimateCost(usage: JobUsage, price: Price | null): CostEstimate | null {
  if (price === null) return null;
  const all: Tokens = { input: usage.inputTokens, output: usage.outputTokens, cacheRead: usage.cacheReadTokens ?? 0, cacheWrite: usage.cacheWriteTokens ?? 0 };
  const batch: Tokens = {
    input: usage.batchInputTokens ?? 0,
    output: usage.batchOutputTokens ?? 0,
    cacheRead: usage.batchCacheReadTokens ?? 0,
    cacheWrite: usage.batchCacheWriteTokens ?? 0,
  };
  const discount = listCost(batch, price) * (price.batchDiscount ?? DEFAULT_BATCH_DISCOUNT);
  const full = listCost(all, price);
  const uncachedFull = listCost({ ...all, cacheRead: 0, cacheWrite: 0 }, price);
  return { costUsd: usd(full - discount), discountUsd: usd(discount), cacheSavingsUsd: usd(uncachedFull - full) };
}
