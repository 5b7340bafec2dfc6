import type { SourceRef } from './provenance';

/**
 * Economy mode's state of one job, kept in its record (`meta.economy`, JSON)
 * so that a job can leave its worker while the provider works, and any
 * worker picks it up where it was.
 *
 * A round: the job plans how many requests it needs, records the round as
 * `submitting` (before the provider hears of it), submits them as one
 * provider batch with custom ids `r<round>-<i>`, records the batch id
 * (`submitted`), and polls until the batch ends; then it reads the results,
 * judges and accepts them like interactive batches, and plans the next round.
 */
export interface EconomyState {
  /** The last round started (0: none yet). */
  round: number;
  /** The round under way, or null between rounds. */
  current: EconomyRound | null;
  /** Rounds in a row that ended with no request answered (expired, errored, cancelled by the provider). */
  failedRounds: number;
  /** Requests answered so far (succeeded), and the inputs accepted from them: the acceptance rate rounds plan with. */
  answered: number;
  acceptedFromBatches: number;
  /** Provider batches created, with their total time waited (ms): for the messages and the bench. */
  batches: number;
  waitedMs: number;
}

export interface EconomyRound {
  round: number;
  /** submitting: recorded before the provider was asked; submitted: the provider accepted it as `batchId`. */
  phase: 'submitting' | 'submitted';
  batchId: string | null;
  /** When the round was recorded (ms since epoch), and when the provider accepted it. */
  startedAt: number;
  submittedAt: number | null;
  /** Polls so far (each next one waits longer). */
  polls: number;
  /** Answers of the ended batch recorded so far, in request order (a run that dies while reading them resumes after these). */
  processed: number;
  /** What each request asked, by its index in the round (custom id `r<round>-<i>`): enough to judge its answer and keep its provenance. */
  requests: EconomyRequest[];
}

export interface EconomyRequest {
  theme: string | null;
  /** The examples the prompt showed, by source (seed or input) and index. */
  examples: SourceRef[];
  temperature: number;
  /** Inputs asked for. */
  count: number;
}

export const NEW_ECONOMY: Readonly<EconomyState> = Object.freeze({
  round: 0,
  current: null,
  failedRounds: 0,
  answered: 0,
  acceptedFromBatches: 0,
  batches: 0,
  waitedMs: 0,
});

/** The custom id of request `index` of round `round`: unique within a job, the same however often the round is submitted. */
export function customIdOf(round: number, index: number): string {
  return `r${round}-${index}`;
}

/** The request index a custom id of round `round` names, or null when it is not one of the round's. */
export function requestIndexOf(round: number, customId: string): number | null {
  const match = /^r(\d+)-(\d+)$/.exec(customId);
  if (match === null || Number(match[1]) !== round) return null;
  return Number(match[2]);
}
