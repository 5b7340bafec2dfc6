/**
 * Economy mode's planning: pure functions, no I/O (unit tested in
 * packages/core/test/economy.test.ts).
 */

/**
 * The overshoot a round plans by default (ECONOMY_OVERSHOOT), as a share of
 * the requests it expects to need. Every request past N is paid for and
 * discarded, so it is small: a round that falls short is followed by a
 * small one (one more provider wait) rather than paid for up front.
 */
export const ROUND_OVERSHOOT = 0.05;
/**
 * What a request is expected to yield before any has been answered: this
 * share of batch_size. A request asks for batch_size inputs and usually gets
 * them; what dedup and the critic reject shows in the first round's rate,
 * and the next round makes up for it.
 */
export const PRIOR_YIELD = 1;
/** The lowest yield a round plans with (a share of batch_size), so a bad round cannot make the next one huge. */
export const MIN_YIELD = 0.25;
/** The most requests one round sends (the provider takes up to 100,000). */
export const MAX_ROUND_REQUESTS = 10_000;

export interface RoundPlanInput {
  /** Inputs still missing. */
  remaining: number;
  batchSize: number;
  /** Requests answered so far in earlier rounds, and the inputs accepted from them. */
  answered: number;
  accepted: number;
  /** Cap on the round's requests (MAX_ROUND_REQUESTS when absent). */
  maxRequests?: number;
  /** The overshoot, a share of the requests needed (ROUND_OVERSHOOT when absent). */
  overshoot?: number;
}

export interface RoundPlan {
  requests: number;
  /** The inputs one request is expected to yield. */
  expectedYield: number;
}

/**
 * How many requests the next round sends: enough to fill the inputs still
 * missing at the acceptance rate seen so far (a prior before the first
 * answers), plus at most `overshoot` more (rounded down); at least one. The job never
 * accepts more than N: what a round brings past N is judged no further.
 */
export function planRound(input: RoundPlanInput): RoundPlan {
  const { remaining, batchSize } = input;
  if (remaining <= 0) return { requests: 0, expectedYield: 0 };
  const observed = input.answered > 0 ? input.accepted / input.answered : PRIOR_YIELD * batchSize;
  const expectedYield = Math.min(batchSize, Math.max(MIN_YIELD * batchSize, observed));
  const needed = Math.ceil(remaining / expectedYield);
  const withOvershoot = needed + Math.floor(needed * (input.overshoot ?? ROUND_OVERSHOOT));
  const requests = Math.max(1, Math.min(input.maxRequests ?? MAX_ROUND_REQUESTS, withOvershoot));
  return { requests, expectedYield: Math.round(expectedYield * 100) / 100 };
}

/** The wait before poll number `polls` (0-based) of a round's batch: min, then 1.5 x longer each time, up to max. */
export function pollDelayMs(polls: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, Math.round(minMs * 1.5 ** Math.max(0, polls)));
}

/** A duration for a message: "45 s", "12 min", "2 h 5 min". */
export function formatWait(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  return `${Math.floor(min / 60)} h ${min % 60} min`;
}
