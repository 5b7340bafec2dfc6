import type { JobRequest } from '../contract';
import { measureDiversity } from '../engine/diversity';
import { runGeneration, type EngineOptions, type EngineOutcome, type JobSink } from '../engine/engine';
import { NO_COUNTS, type BatchCounts } from '../model/job';
import { tokenize } from '../engine/normalize';
import { seededRandom, seedFromString } from '../engine/random';
import { rougeLF1 } from '../engine/similarity';
import type { LlmProvider } from '../llm/provider';
import { EXPLORATION_MODES, type Diversity, type ExplorationMode, type TokenUsage } from '../model/job';
import type { EvalApplication } from './applications';

/**
 * The quality evaluation behind `npm run eval`: every exploration mode on a
 * few fixed applications, through the real engine (`runGeneration`) with an
 * in-memory sink, so no Redis and no service are involved. Per run it keeps
 * the accepted inputs, the batch counts and the token usage; per mode it
 * averages the diversity measures over the applications and adds up the
 * counts. Pure over the engine and the provider it is given: the same
 * provider seeds and `seed` give the same numbers.
 */

/** An accepted input counts as "far from the seeds" when its ROUGE-L F1 with every seed is below this. */
export const FAR_FROM_SEEDS = 0.3;

export interface EvalOptions {
  /** Inputs to generate per application and mode. */
  n: number;
  applications: readonly EvalApplication[];
  /** Modes to run; reported in the order of EXPLORATION_MODES whatever the order given. */
  modes: readonly ExplorationMode[];
  /** Seeds the engine's sampling (and, through `providerFor`, whatever else the caller derives from it). */
  seed: number;
  /** The provider for one run. Called once per application and mode. */
  providerFor: (application: EvalApplication, mode: ExplorationMode) => LlmProvider;
  batchSize?: number;
  numShots?: number;
  /** Engine options; the service's defaults when absent (themes and critic on). */
  engine?: Partial<Omit<EngineOptions, 'random'>>;
  /** Runs at once (each is one job); 1 by default. */
  concurrency?: number;
  /** Called as each run ends, for progress output. */
  onRun?: (run: RunResult) => void;
  /** Aborting cancels the runs in flight and starts no more. */
  signal?: AbortSignal;
}

/** One application in one mode: one job, start to end. */
export interface RunResult {
  application: string;
  mode: ExplorationMode;
  outcome: EngineOutcome;
  accepted: string[];
  /** The batch counts of the job, added up. */
  counts: BatchCounts;
  /** LLM calls: those of the batches recorded with a usage (calls that threw carry none). */
  calls: number;
  usage: TokenUsage;
  diversity: Diversity;
  /** Accepted inputs whose most similar seed has ROUGE-L F1 below FAR_FROM_SEEDS. */
  farFromSeeds: number;
  /** Words (as the similarity measures count them) over all accepted inputs. */
  words: number;
  durationMs: number;
}

/** One mode over all applications. */
export interface ModeSummary {
  mode: ExplorationMode;
  runs: number;
  /** Runs that ended DONE (all N accepted). */
  runsDone: number;
  /** Means over the applications of measureDiversity's measures. */
  distinct1: number;
  distinct2: number;
  meanPairwiseSimilarity: number;
  compressionRatio: number;
  /** Share of all accepted inputs far from every seed (pooled over the applications). */
  farFromSeedsShare: number;
  /** Mean length of an accepted input in words: distinct-n falls as inputs grow, so read the two together. */
  wordsPerInput: number;
  accepted: number;
  /** Exact and near duplicates. */
  similar: number;
  /** Judged bad by the critic, or dropped by the heuristic filters. */
  bad: number;
  unusableAnswers: number;
  calls: number;
  tokens: number;
  callsPerAccepted: number;
  tokensPerAccepted: number;
}

/** The diversity measures of ModeSummary, and which way is "more diverse". */
export const DIVERSITY_MEASURES = [
  { key: 'distinct1', label: 'distinct-1', moreDiverse: 'higher' },
  { key: 'distinct2', label: 'distinct-2', moreDiverse: 'higher' },
  { key: 'meanPairwiseSimilarity', label: 'mean pairwise similarity', moreDiverse: 'lower' },
  { key: 'compressionRatio', label: 'compression ratio', moreDiverse: 'lower' },
  { key: 'farFromSeedsShare', label: `nearest seed < ${FAR_FROM_SEEDS}`, moreDiverse: 'higher' },
] as const satisfies ReadonlyArray<{ key: keyof ModeSummary; label: string; moreDiverse: 'higher' | 'lower' }>;

export type DiversityMeasure = (typeof DIVERSITY_MEASURES)[number]['key'];

/** How one measure moves from the first mode run to the last (CONSERVATIVE to ADVENTUROUS in a full run). */
export interface MeasureChange {
  key: DiversityMeasure;
  label: string;
  moreDiverse: 'higher' | 'lower';
  from: { mode: ExplorationMode; value: number };
  to: { mode: ExplorationMode; value: number };
  absolute: number;
  /** Per cent of `from`; null when `from` is 0. */
  percent: number | null;
  /** The last mode is more diverse than the first on this measure. */
  rises: boolean;
  /** Every mode is more diverse than the one before it. */
  monotone: boolean;
  /** Steps (from, to) where diversity fell or stood still. */
  reversals: Array<[ExplorationMode, ExplorationMode]>;
}

export interface EvalResult {
  n: number;
  seed: number;
  applications: string[];
  runs: RunResult[];
  /** In the order of EXPLORATION_MODES. */
  modes: ModeSummary[];
  /** Null when fewer than two modes ran. */
  changes: MeasureChange[] | null;
  durationMs: number;
}

export async function runEval(options: EvalOptions): Promise<EvalResult> {
  if (!Number.isInteger(options.n) || options.n < 1) throw new Error(`n must be a positive integer, not ${options.n}`);
  if (options.applications.length === 0) throw new Error('no applications to evaluate');
  const modes = EXPLORATION_MODES.filter((mode) => options.modes.includes(mode));
  if (modes.length === 0) throw new Error('no exploration modes to evaluate');

  const started = Date.now();
  const tasks = options.applications.flatMap((application) => modes.map((mode) => ({ application, mode })));
  const runs: RunResult[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length && options.signal?.aborted !== true) {
      const index = next++;
      const { application, mode } = tasks[index]!;
      const run = await runOne(application, mode, options);
      runs[index] = run;
      options.onRun?.(run);
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 1, tasks.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  const finished = runs.filter((run) => run !== undefined);

  const summaries = modes.map((mode) => summarize(mode, finished.filter((run) => run.mode === mode)));
  return {
    n: options.n,
    seed: options.seed,
    applications: options.applications.map((a) => a.id),
    runs: finished,
    modes: summaries,
    changes: summaries.length >= 2 ? compareModes(summaries) : null,
    durationMs: Date.now() - started,
  };
}

async function runOne(application: EvalApplication, mode: ExplorationMode, options: EvalOptions): Promise<RunResult> {
  const runSeed = seedFromString(`${options.seed}:${application.id}:${mode}`);
  const request: JobRequest = {
    application_description: application.description,
    num_inputs_to_generate: options.n,
    seeds: [...application.seeds],
    batch_size: options.batchSize ?? 5,
    num_shots: options.numShots ?? 5,
    exploration_mode: mode,
  };
  const sink = new CollectingSink(options.signal);
  const started = Date.now();
  const outcome = await runGeneration(
    { jobId: `eval-${application.id}-${mode}`, request, accepted: [], generatedSeeds: null },
    options.providerFor(application, mode),
    sink,
    {
      // As the worker runs a job: themes on, the critic on (CRITIC_ENABLED's default).
      maxParallelBatches: 4,
      maxBarrenBatches: 10,
      maxFailedCalls: 8,
      themes: true,
      critic: true,
      ...options.engine,
      random: seededRandom(runSeed),
    },
    options.signal ?? new AbortController().signal,
  );
  return {
    application: application.id,
    mode,
    outcome,
    accepted: sink.accepted,
    counts: sink.counts,
    calls: sink.calls,
    usage: sink.usage,
    diversity: measureDiversity(sink.accepted, seededRandom(runSeed)),
    farFromSeeds: countFarFromSeeds(sink.accepted, application.seeds),
    words: sink.accepted.reduce((total, input) => total + tokenize(input).length, 0),
    durationMs: Date.now() - started,
  };
}

/** The engine's JobSink, in memory: keeps the accepted inputs, adds up counts and usage. */
class CollectingSink implements JobSink {
  readonly accepted: string[] = [];
  readonly counts: BatchCounts = { ...NO_COUNTS };
  readonly usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
  calls = 0;

  constructor(private readonly signal: AbortSignal | undefined) {}

  async recordBatch(batch: {
    accepted: string[];
    usage: TokenUsage | null;
    message: string;
    counts?: BatchCounts;
    calls?: number;
  }): Promise<{ cancelRequested: boolean }> {
    this.accepted.push(...batch.accepted);
    if (batch.usage !== null) {
      // A batch's usage may cover several calls (generation and critic); one when the engine does not say.
      this.calls += batch.calls ?? 1;
      this.usage.inputTokens += batch.usage.inputTokens;
      this.usage.outputTokens += batch.usage.outputTokens;
    }
    if (batch.counts !== undefined) addCounts(this.counts, batch.counts);
    return { cancelRequested: this.signal?.aborted === true };
  }

  async message(): Promise<void> {}

  async saveGeneratedSeeds(): Promise<void> {}
}

/** Adds every count field, including ones added to BatchCounts later. */
function addCounts(total: BatchCounts, counts: BatchCounts): void {
  const sum = total as unknown as Record<string, number>;
  for (const [key, value] of Object.entries(counts)) {
    if (typeof value === 'number') sum[key] = (sum[key] ?? 0) + value;
  }
}

/** How many inputs have a ROUGE-L F1 below FAR_FROM_SEEDS with every seed. */
export function countFarFromSeeds(inputs: readonly string[], seeds: readonly string[]): number {
  const ids = new Map<string, number>();
  const encode = (text: string) =>
    Int32Array.from(tokenize(text), (token) => {
      let id = ids.get(token);
      if (id === undefined) ids.set(token, (id = ids.size));
      return id;
    });
  const seedTokens = seeds.map(encode);
  let far = 0;
  for (const input of inputs) {
    const tokens = encode(input);
    let nearest = 0;
    for (const seed of seedTokens) nearest = Math.max(nearest, rougeLF1(tokens, seed));
    if (nearest < FAR_FROM_SEEDS) far++;
  }
  return far;
}

function summarize(mode: ExplorationMode, runs: readonly RunResult[]): ModeSummary {
  const mean = (pick: (run: RunResult) => number) => (runs.length === 0 ? 0 : runs.reduce((s, run) => s + pick(run), 0) / runs.length);
  const sum = (pick: (run: RunResult) => number) => runs.reduce((s, run) => s + pick(run), 0);
  const accepted = sum((run) => run.accepted.length);
  const calls = sum((run) => run.calls);
  const tokens = sum((run) => run.usage.inputTokens + run.usage.outputTokens);
  return {
    mode,
    runs: runs.length,
    runsDone: runs.filter((run) => run.outcome.state === 'DONE').length,
    distinct1: mean((run) => run.diversity.distinct1),
    distinct2: mean((run) => run.diversity.distinct2),
    meanPairwiseSimilarity: mean((run) => run.diversity.meanPairwiseSimilarity),
    compressionRatio: mean((run) => run.diversity.compressionRatio),
    farFromSeedsShare: accepted === 0 ? 0 : sum((run) => run.farFromSeeds) / accepted,
    wordsPerInput: accepted === 0 ? 0 : sum((run) => run.words) / accepted,
    accepted,
    similar: sum((run) => run.counts.exactDuplicates + run.counts.nearDuplicates),
    bad: sum((run) => (run.counts.bad ?? 0) + run.counts.filtered),
    unusableAnswers: sum((run) => run.counts.unusableAnswers),
    calls,
    tokens,
    callsPerAccepted: accepted === 0 ? 0 : calls / accepted,
    tokensPerAccepted: accepted === 0 ? 0 : tokens / accepted,
  };
}

/** How each diversity measure moves across the modes, in the order given. */
export function compareModes(summaries: readonly ModeSummary[]): MeasureChange[] {
  const first = summaries[0]!;
  const last = summaries[summaries.length - 1]!;
  return DIVERSITY_MEASURES.map(({ key, label, moreDiverse }) => {
    const sign = moreDiverse === 'higher' ? 1 : -1;
    const reversals: Array<[ExplorationMode, ExplorationMode]> = [];
    for (let i = 1; i < summaries.length; i++) {
      const before = summaries[i - 1]!;
      const after = summaries[i]!;
      if (sign * (after[key] - before[key]) <= 0) reversals.push([before.mode, after.mode]);
    }
    const absolute = last[key] - first[key];
    return {
      key,
      label,
      moreDiverse,
      from: { mode: first.mode, value: first[key] },
      to: { mode: last.mode, value: last[key] },
      absolute,
      percent: first[key] === 0 ? null : (100 * absolute) / first[key],
      rises: sign * absolute > 0,
      monotone: reversals.length === 0,
      reversals,
    };
  });
}
