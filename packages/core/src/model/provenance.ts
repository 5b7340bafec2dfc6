/**
 * Where each input of a job came from, and what became of the candidates
 * that were not kept: stored with the input (or the rejection) in the same
 * write, read back through the items and rejected endpoints. Field names are
 * the API's (snake_case): the store keeps them as JSON and the API passes
 * them through.
 */

/**
 * A seed (given, or written by a seedless job), an earlier accepted input of
 * the job, or an input of the job's dataset written by another job, by its
 * 0-based index (among the seeds, the job's data, or the dataset's inputs).
 */
export interface SourceRef {
  source: 'seed' | 'input' | 'dataset';
  index: number;
}

/** A neighbour and how close it is (ROUGE-L F1 of the normalised words). */
export interface Neighbour extends SourceRef {
  similarity: number;
}

/** Below this, nothing is reported as an input's nearest neighbour (the eval's "far from every seed" line). */
export const NEAREST_FLOOR = 0.3;

export interface CriticVerdict {
  /** `unjudged`: the critic was off, failed or answered something unusable; the input was kept without it. */
  verdict: 'good' | 'bad' | 'unjudged';
  reason: string | null;
}

/** The provenance of one accepted input. */
export interface ItemProvenance {
  /** The batch that wrote it (1, 2, ...; counted per run of the job). */
  batch: number;
  theme: string | null;
  /** The examples its prompt showed. */
  examples: SourceRef[];
  /** The provider and model that wrote it, e.g. "anthropic (claude-sonnet-5-5)". */
  model: string;
  temperature: number;
  critic: CriticVerdict;
  /** Its most similar seed or earlier input at acceptance, if any reached NEAREST_FLOOR. */
  nearest: Neighbour | null;
  /** ISO 8601. */
  accepted_at: string;
}

export type RejectionReason = 'exact_duplicate' | 'near_duplicate' | 'filtered' | 'bad';

/** A candidate that was not kept, and why. */
export interface RejectedCandidate {
  input: string;
  reason: RejectionReason;
  /** In words: which filter and why, the critic's reason, or what it duplicates. */
  detail: string;
  /** exact_duplicate, near_duplicate: the seed or input it repeats, with the similarity (1 for exact). */
  duplicate_of: Neighbour | null;
  /** filtered: which filter (empty, meta, refusal, length). */
  filter: string | null;
  batch: number;
  theme: string | null;
  rejected_at: string;
}
