import type { JobRequest } from '../contract';
import { FatalLlmError } from '../llm/errors';
import type { BatchContext, LlmProvider } from '../llm/provider';
import { NEW_ECONOMY, type EconomyRequest, type EconomyState } from '../model/economy';
import { addUsage, NO_COUNTS, type BatchCounts, type ExplorationMode, type TokenUsage } from '../model/job';
import { cancelledMessage, handedBackMessage } from '../model/messages';
import type { CriticVerdict, ItemProvenance, Neighbour, RejectedCandidate, SourceRef } from '../model/provenance';
import { DedupIndex, type CheckedCandidate, type DedupVerdict } from './dedup';
import { filterCandidate, lengthRange, type LengthRange } from './filters';
import { MODE_SETTINGS, type ModeSettings } from './modes';
import { normalizeText } from './normalize';
import { parseBatch, parseVerdicts, type Verdict } from './parse';
import {
  buildBatchPrompt,
  buildCriticSystemPrompt,
  buildCritiquePrompt,
  buildFirstSeedsPrompt,
  buildSystemPrompt,
  buildThemesPrompt,
} from './prompt';
import { clip, describe } from './quote';
import type { Random } from './random';
import { EconomyRounds, type EconomySettings, type RoundsHost } from './rounds';
import { sampleShotsWithSources, type Shot } from './sampling';
import { nextTemperature } from './temperature';
import { pickTheme, type ThemeUse } from './themes';

/**
 * The generation engine: runs one job from wherever it stands to exactly N
 * accepted inputs. Pure orchestration; storage and the LLM sit behind the
 * small interfaces it is given, so it runs the same in tests and workers.
 */

/** Where the engine records what happens; the worker backs it with Redis. */
export interface JobSink {
  /**
   * Records one finished batch in one step: its accepted inputs (appended in
   * order), its token usage and its progress message. Answers whether the
   * job has been cancelled meanwhile.
   */
  recordBatch(batch: {
    accepted: string[];
    /** Tokens of interactive calls (full price). */
    usage: TokenUsage | null;
    /** Tokens of requests answered through the provider's batch API (economy mode: discounted). */
    batchUsage?: TokenUsage | null;
    /** Batch-API requests batchUsage covers. */
    batchRequests?: number;
    message: string;
    counts?: BatchCounts;
    /** LLM calls the usage covers (1 when absent and usage is given). */
    calls?: number;
    /** Where each accepted input came from, in the same order (absent for batches that accepted none). */
    provenance?: ItemProvenance[];
    /** The candidates the batch did not keep, and why. */
    rejected?: RejectedCandidate[];
    /** Accepted under the dataset's turn (takeTurn): recording the batch ends the turn. */
    turn?: boolean;
    /** Economy mode: the job's economy state after this batch, written in the same step. */
    economy?: EconomyState;
  }): Promise<{ cancelRequested: boolean }>;
  /**
   * Economy mode: stores the job's economy state (and a message with it, in
   * the same step) before anything depends on it. Required for economy jobs.
   */
  saveEconomy?(state: EconomyState, message: string | null): Promise<void>;
  message(text: string): Promise<void>;
  /** Stores the seeds a seedless job wrote for itself, so a restart reuses them. */
  saveGeneratedSeeds(seeds: string[]): Promise<void>;
  /** Stores the job's themes, so a restart reuses them (optional: without it, a restart derives them again). */
  saveThemes?(themes: string[]): Promise<void>;
  /**
   * For a job of a dataset: waits for the dataset's turn (one batch of one
   * job at a time is accepted in a dataset) and answers the inputs other
   * jobs added to it since the last turn, with their index in the dataset.
   * The turn ends when the batch is recorded (recordBatch). Absent: no dataset.
   */
  takeTurn?(): Promise<Array<{ index: number; input: string }>>;
}

export interface EngineJob {
  jobId: string;
  request: JobRequest;
  /** Inputs already stored for this job (a restart after a crash), in order. */
  accepted: string[];
  /** Seeds written by an earlier run of a seedless job, if any. */
  generatedSeeds: string[] | null;
  /** Themes derived by an earlier run, if any. */
  themes?: string[] | null;
  /** The inputs of the job's dataset written by other jobs, with their index in it: taken too. */
  taken?: Array<{ index: number; input: string }>;
  /** Economy mode: the state stored by earlier runs (null or absent: none yet). */
  economy?: EconomyState | null;
}

export interface EngineOptions {
  maxParallelBatches: number;
  /** Batches in a row that yield nothing new before the job gives up. */
  maxBarrenBatches: number;
  /** Failed LLM calls in a row (errors, unusable output) before the job gives up. */
  maxFailedCalls: number;
  random: Random;
  /** Derive themes at the start and condition each batch on one (the worker turns this on). */
  themes?: boolean;
  /** Judge each batch with the critic (CRITIC_ENABLED; off when absent). */
  critic?: boolean;
  /** The clock of the provenance's times (ms since epoch); Date.now when absent. */
  now?: () => number;
  /** Pause before retrying after a failed call: base * 2^(failures-1), capped, with jitter. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /**
   * Economy mode, for jobs whose request says `economy: true`: the provider's
   * batch API and the polling schedule. Such a job runs one step per call of
   * runGeneration and answers WAITING while its provider batch runs.
   */
  economy?: EconomySettings;
}

/**
 * How a run ended. DONE, ERROR and CANCELLED end the job; INTERRUPTED does
 * not: the worker is going away and the job resumes elsewhere from what is
 * stored. WAITING (economy mode) does not either: the job's provider batch
 * is running, and the job should run again after `delayMs`, on any worker.
 */
export type EngineOutcome =
  | { state: 'DONE' | 'ERROR' | 'CANCELLED' | 'INTERRUPTED'; message: string }
  | { state: 'WAITING'; message: string; delayMs: number };

/** How many seeds a job given none writes for itself first. */
export const FIRST_SEEDS_COUNT = 5;

/** How many themes a job derives: more, and further reaching, as the mode rises. */
export const THEMES_PER_MODE: Record<ExplorationMode, number> = {
  CONSERVATIVE: 4,
  BALANCED: 8,
  CREATIVE: 12,
  ADVENTUROUS: 16,
};

export async function runGeneration(
  job: EngineJob,
  provider: LlmProvider,
  sink: JobSink,
  options: EngineOptions,
  signal: AbortSignal,
  /** Fires when the worker shuts down: stop now, without ending the job. */
  interrupt?: AbortSignal,
): Promise<EngineOutcome> {
  return new GenerationRun(job, provider, sink, options, signal, interrupt).run();
}

class GenerationRun {
  private readonly target: number;
  private readonly mode: ModeSettings;
  private readonly system: string;
  private readonly accepted: string[];
  private readonly dedup: DedupIndex;
  private seeds: string[];
  /** The seeds' length range in words, for the length filter. */
  private seedLengths: LengthRange | null;
  private temperature: number;
  private batchesStarted = 0;
  private barrenStreak = 0;
  private failureStreak = 0;
  private lastFailure = '';
  private totalDuplicates = 0;
  private totalBad = 0;
  private totalFiltered = 0;
  private themes: string[] = [];
  private readonly themeUse = new Map<string, ThemeUse>();
  private readonly criticOn: boolean;
  private readonly maxParallel: number;
  private readonly criticSystem: string;
  private fatal: string | null = null;
  /**
   * Why the job gave up (too many barren batches or failed calls), set once:
   * an answer that arrives afterwards (already on the wire when the calls were
   * aborted) resets a streak but never takes the decision back.
   */
  private gaveUpReason: string | null = null;
  private cancelled = false;
  private interrupted = false;
  /** Aborts this run's own calls: on cancel, and when the run ends early. */
  private readonly calls = new AbortController();
  /** What each entry of the dedup index is (a seed or an accepted input, by index), for provenance. */
  private readonly entrySources: SourceRef[] = [];
  /** Economy mode's rounds, for a job that asks for it (null: interactive batches only). */
  private readonly rounds: EconomyRounds | null;

  constructor(
    private readonly job: EngineJob,
    private readonly provider: LlmProvider,
    private readonly sink: JobSink,
    private readonly options: EngineOptions,
    private readonly signal: AbortSignal,
    private readonly interrupt?: AbortSignal,
  ) {
    const r = job.request;
    this.target = r.num_inputs_to_generate;
    this.mode = MODE_SETTINGS[r.exploration_mode];
    this.system = buildSystemPrompt(r.application_description, this.mode);
    this.temperature = this.mode.temperature.min;
    this.accepted = job.accepted.slice(0, this.target);
    this.seeds = r.seeds.length > 0 ? [...r.seeds] : [...(job.generatedSeeds ?? [])];
    this.seedLengths = lengthRange(this.seeds);
    this.themes = [...(job.themes ?? [])];
    this.criticOn = options.critic === true;
    this.maxParallel = r.run_parallel_batches === false ? 1 : options.maxParallelBatches;
    this.criticSystem = buildCriticSystemPrompt(r.application_description);
    this.dedup = new DedupIndex(this.mode.nearDuplicateThreshold);
    for (const [index, seed] of this.seeds.entries()) if (this.dedup.add(seed)) this.entrySources.push({ source: 'seed', index });
    for (const [index, input] of this.accepted.entries()) if (this.dedup.add(input)) this.entrySources.push({ source: 'input', index });
    this.addTaken(job.taken ?? []);
    this.rounds =
      r.economy === true && options.economy !== undefined ? new EconomyRounds(this.roundsHost(), options.economy, job.economy ?? { ...NEW_ECONOMY }) : null;
  }

  /** What the economy rounds use of this run: its requests, judging, records and failure streaks. */
  private roundsHost(): RoundsHost {
    return {
      jobId: this.job.jobId,
      target: this.target,
      batchSize: this.job.request.batch_size,
      accepted: () => this.accepted.length,
      stopped: () => this.stopped,
      cancelled: () => this.cancelled,
      signal: this.calls.signal,
      clock: () => this.clock(),
      plan: () => this.prepare().request,
      toSend: (request, batchNumber) => {
        const prepared = this.prepared(request);
        return {
          system: this.system,
          prompt: prepared.prompt,
          count: request.count,
          temperature: request.temperature,
          context: { ...this.context(prepared.shots, batchNumber), ...(prepared.theme !== undefined && { theme: prepared.theme }) },
        };
      },
      nextBatch: () => ++this.batchesStarted,
      judge: (number, label, request, answer, economyAfter) => this.judge(number, label, this.prepared(request), answer, 'batch', economyAfter),
      record: (batch) => this.recordBatch(batch),
      saveEconomy: (state, message) => this.sink.saveEconomy!(state, message),
      message: (text) => this.sink.message(text),
      callSucceeded: () => {
        this.failureStreak = 0;
      },
      callFailed: (error) => {
        const reason = this.failure(error);
        if (reason !== null) this.countFailure(reason);
        return reason;
      },
      giveUp: (reason) => {
        this.gaveUpReason = reason;
      },
    };
  }

  /** Inputs of the job's dataset that other jobs wrote: duplicates of them are rejected like those of the job's own. */
  private addTaken(taken: ReadonlyArray<{ index: number; input: string }>): void {
    for (const { index, input } of taken) if (this.dedup.add(input)) this.entrySources.push({ source: 'dataset', index });
  }

  private now(): string {
    return new Date((this.options.now ?? Date.now)()).toISOString();
  }

  /** The seed or input a dedup entry is, with a similarity. */
  private neighbour(entry: number, similarity: number): Neighbour | null {
    const source = this.entrySources[entry];
    return source === undefined ? null : { ...source, similarity: Math.round(similarity * 10_000) / 10_000 };
  }

  async run(): Promise<EngineOutcome> {
    const onAbort = () => this.cancel();
    const onInterrupt = () => this.stopForShutdown();
    this.signal.addEventListener('abort', onAbort);
    this.interrupt?.addEventListener('abort', onInterrupt);
    if (this.signal.aborted) this.cancel(); // cancelled before the run began: 'abort' will not fire again
    if (this.interrupt?.aborted) this.stopForShutdown();
    try {
      await this.announce();
      if (this.options.themes === true && this.themes.length === 0 && !this.stopped) await this.deriveThemes();
      if (this.seeds.length === 0 && !this.cancelled) await this.writeFirstSeeds();
      if (this.seeds.length > 0) {
        if (this.rounds !== null) await this.rounds.step();
        else await this.fill();
      }
      return this.outcome();
    } finally {
      this.signal.removeEventListener('abort', onAbort);
      this.interrupt?.removeEventListener('abort', onInterrupt);
      this.calls.abort();
    }
  }

  private cancel(): void {
    this.cancelled = true;
    this.calls.abort();
  }

  /** Shutdown: launch nothing new, but let the calls in flight finish and count (they are paid for). */
  private stopForShutdown(): void {
    this.interrupted = true;
  }

  /** No new calls once set. */
  private get stopped(): boolean {
    return this.interrupted || this.ending;
  }

  /** The job is ending: answers still arriving are not used. */
  private get ending(): boolean {
    return this.cancelled || this.fatal !== null || this.gaveUpReason !== null;
  }

  /** Gives up once a streak reaches its bound; called after each change of a streak. */
  private checkStreaks(): void {
    if (this.gaveUpReason !== null) return;
    if (this.barrenStreak >= this.options.maxBarrenBatches) {
      this.gaveUpReason = `Stopped: ${this.barrenStreak} batches in a row produced no new inputs (the model keeps repeating earlier ones). Try a more adventurous exploration mode or more varied seeds.`;
    } else if (this.failureStreak >= this.options.maxFailedCalls) {
      this.gaveUpReason = `Stopped: ${this.failureStreak} LLM calls in a row failed; the last one: ${this.lastFailure}.`;
    }
  }

  private outcome(): EngineOutcome {
    const kept = `${this.accepted.length} of ${this.target} inputs`;
    if (this.cancelled) return { state: 'CANCELLED', message: cancelledMessage(this.accepted.length, this.target) };
    if (this.interrupted && this.accepted.length < this.target) {
      return { state: 'INTERRUPTED', message: handedBackMessage(this.accepted.length, this.target) };
    }
    if (this.rounds?.waitMs != null && !this.ending && this.accepted.length < this.target) {
      return { state: 'WAITING', message: `Waiting for round ${this.rounds.round}'s provider batch.`, delayMs: this.rounds.waitMs };
    }
    // All N are in: answers that came late (cut by the target, or failed) cannot make the job fail.
    if (this.accepted.length >= this.target) return this.done();
    if (this.fatal !== null) return { state: 'ERROR', message: `${this.fatal} Kept ${kept}.` };
    if (this.gaveUpReason !== null) return { state: 'ERROR', message: `${this.gaveUpReason} Kept ${kept}.` };
    // Never DONE short of N: a run that stops without a reason is a bug, and says so.
    return { state: 'ERROR', message: `Stopped without a reason with ${kept} (an internal error); the job can be submitted again.` };
  }

  private done(): EngineOutcome {
    return {
      state: 'DONE',
      message:
        `Done: ${this.target} inputs generated in ${this.batchesStarted} batches; rejected ${this.totalDuplicates} as similar, ` +
        `${this.totalBad} as bad and ${this.totalFiltered} by the filters${this.themes.length > 0 ? `, over ${this.themes.length} themes` : ''}.`,
    };
  }

  private async announce(): Promise<void> {
    const r = this.job.request;
    // An economy job runs again at every poll: it announces itself once.
    if (this.rounds !== null && this.rounds.round > 0) return;
    if (this.job.accepted.length > 0) {
      await this.sink.message(`Resumed: ${this.accepted.length} of ${this.target} inputs were already stored; continuing.`);
      return;
    }
    await this.sink.message(
      `Started: generating ${this.target} inputs in ${r.exploration_mode} mode, ${r.batch_size} per batch, ` +
        `${r.num_shots} examples per prompt, ` +
        (this.rounds !== null
          ? `in economy mode (requests go through the provider's batch API in rounds, at half price; themes, first seeds and the critic are asked interactively), `
          : `up to ${this.maxParallel} batches at a time, `) +
        `with ${this.provider.name}; ` +
        `critic ${this.criticOn ? 'on: each batch is judged for fit with the application' : 'off'}.`,
    );
    if (!this.provider.isLlm) {
      await this.sink.message(
        'Note: no LLM is configured, so the offline generator writes these inputs by recombining the seeds and the description, without an LLM. Set ANTHROPIC_API_KEY for LLM-written inputs.',
      );
    }
  }

  /** A job given no seeds first writes a few of its own from the description. */
  private async writeFirstSeeds(): Promise<void> {
    await this.sink.message(`No seeds were given: writing ${FIRST_SEEDS_COUNT} first example inputs from the description.`);
    while (!this.stopped) {
      this.batchesStarted++;
      const result = await this.call('First example inputs', [], FIRST_SEEDS_COUNT, buildFirstSeedsPrompt(FIRST_SEEDS_COUNT, this.themes), {
        purpose: 'first_seeds',
      });
      if (result === null) continue;
      const seeds: string[] = [];
      for (const input of result.inputs) {
        if (seeds.length >= FIRST_SEEDS_COUNT || !filterCandidate(input, null, this.job.request.exploration_mode).ok) continue;
        if (this.dedup.checkAndAdd(input).kind === 'unique') {
          this.entrySources.push({ source: 'seed', index: seeds.length });
          seeds.push(input);
        }
      }
      if (seeds.length === 0) {
        this.barrenStreak++;
        this.checkStreaks();
        // recordBatch, not message: the call's usage must be counted too
        await this.record([], result.usage, 'First example inputs: the answer held nothing new; asking again.');
        continue;
      }
      await this.sink.saveGeneratedSeeds(seeds);
      this.seeds = seeds;
      this.seedLengths = lengthRange(seeds);
      await this.record([], result.usage, `Wrote ${seeds.length} first example inputs; they serve as seeds and are not part of the output.`);
      return;
    }
  }

  /** One call for the job's themes; two failed tries and the job goes on without them. */
  private async deriveThemes(): Promise<void> {
    const count = THEMES_PER_MODE[this.job.request.exploration_mode];
    const reachEdges = this.job.request.exploration_mode === 'ADVENTUROUS' || this.job.request.exploration_mode === 'CREATIVE';
    for (let attempt = 0; attempt < 2 && !this.stopped; attempt++) {
      const result = await this.call('Themes', [], count, buildThemesPrompt(count, reachEdges, this.seeds), { purpose: 'themes' });
      if (result === null) continue;
      const themes = distinctShort(result.inputs).slice(0, count);
      if (themes.length === 0) {
        await this.record([], result.usage, 'Themes: the answer held none; asking again.');
        continue;
      }
      this.themes = themes;
      await this.sink.saveThemes?.(themes);
      await this.record([], result.usage, `Themes (${themes.length}): ${themes.map((t) => clip(t, 80)).join('; ')}.`);
      return;
    }
    if (!this.stopped) await this.sink.message('No themes could be derived; the batches go on without them.');
  }

  /** Keeps up to maxParallelBatches calls in flight until exactly `target` inputs are accepted. */
  private async fill(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const batchSize = this.job.request.batch_size;
    // run_parallel_batches: false asks for one batch at a time (generation, then critique, then the next).
    while (this.accepted.length < this.target && !this.stopped) {
      const remaining = this.target - this.accepted.length;
      // Never more calls in flight than the inputs still missing could use.
      while (inFlight.size < this.maxParallel && inFlight.size * batchSize < remaining) {
        const batch = this.runBatch().finally(() => inFlight.delete(batch));
        inFlight.add(batch);
      }
      await Promise.race(inFlight);
    }
    // Calls still running can no longer be used, unless the worker is only
    // shutting down: then they finish within its grace period and count.
    if (this.ending || this.accepted.length >= this.target) this.calls.abort();
    await Promise.allSettled(inFlight);
  }

  /** What one request for new inputs asks: its theme, examples, temperature and prompt. */
  private prepare(): Prepared {
    const r = this.job.request;
    const theme = pickTheme(this.themes, this.themeUse, this.options.random) ?? undefined;
    const sampled = sampleShotsWithSources(this.seeds, this.accepted, r.num_shots, this.mode, this.options.random);
    const request = { theme: theme ?? null, examples: sampled.map(({ source, index }) => ({ source, index })), temperature: this.temperature, count: r.batch_size };
    return preparedFrom(request, sampled);
  }

  /** A request as an economy round stored it, made again: the same examples (by index), theme and temperature. */
  private prepared(request: EconomyRequest): Prepared {
    return preparedFrom(
      request,
      request.examples.map((ref) => ({ ...ref, text: (ref.source === 'seed' ? this.seeds[ref.index] : this.accepted[ref.index]) ?? '' })),
    );
  }

  private async runBatch(): Promise<void> {
    const number = ++this.batchesStarted;
    const prepared = this.prepare();
    const { theme } = prepared;
    const label = theme === undefined ? `Batch ${number}` : `Batch ${number} (theme: ${clip(theme, 60)})`;
    const result = await this.call(label, prepared.shots, prepared.request.count, prepared.prompt, { batchNumber: number, theme });
    if (result === null) return;
    await this.judge(number, label, prepared, result, 'interactive');
  }

  /**
   * Judges one answer's candidates (filters, dedup, the critic), accepts the
   * new ones up to the target and records the batch. `billing` says how the
   * answer's tokens were billed: economy answers come through the batch API.
   */
  private async judge(
    number: number,
    label: string,
    prepared: Prepared,
    result: { inputs: string[]; usage: TokenUsage },
    billing: 'interactive' | 'batch',
    /** Economy mode: the job's economy state once this answer is recorded, given the inputs it accepted (written with it). */
    economyAfter?: (accepted: number) => EconomyState,
  ): Promise<void> {
    const r = this.job.request;
    const { theme, sampled, shots } = prepared;
    const temperature = prepared.request.temperature;
    const batchPart = billing === 'batch' ? { batchUsage: result.usage, batchRequests: 1 } : {};
    if (this.ending || this.accepted.length >= this.target) {
      // Too late to use, but its tokens were spent: record the usage.
      const message = `${label}: answer discarded, the job is ${this.ending ? 'stopping' : 'complete'}.`;
      await this.recordBatch({
        accepted: [],
        usage: billing === 'batch' ? null : result.usage,
        message,
        ...(economyAfter !== undefined && { economy: economyAfter(0) }),
        ...batchPart,
      });
      return;
    }

    // 1. Filters, and dedup against what exists.
    const counts = { ...NO_COUNTS };
    const similar: Similar = { best: null };
    const passed: CheckedCandidate[] = [];
    const rejected: RejectedCandidate[] = [];
    const reject = (input: string, reason: RejectedCandidate['reason'], detail: string, extra: Partial<RejectedCandidate> = {}) =>
      rejected.push({ input, reason, detail, duplicate_of: null, filter: null, batch: number, theme: theme ?? null, rejected_at: this.now(), ...extra });
    for (const input of result.inputs) {
      counts.candidates++;
      const filtered = filterCandidate(input, this.seedLengths, r.exploration_mode);
      if (!filtered.ok) {
        counts.filtered++;
        reject(input, 'filtered', filtered.detail, { filter: filtered.reason });
        continue;
      }
      const checked = this.dedup.checkCandidate(input, { nearest: true });
      if (this.countDuplicate(input, checked.verdict, counts, similar, reject)) passed.push(checked);
    }

    // 2. The critic, on what is left (interactive: a short call, and its verdict is needed now).
    let usage: TokenUsage | null = billing === 'batch' ? null : result.usage;
    let calls = billing === 'batch' ? 0 : 1;
    let good = passed;
    let goodVerdicts: CriticVerdict[] = passed.map(() => ({ verdict: 'unjudged', reason: this.criticOn ? null : 'the critic is off' }));
    let criticNote = '';
    if (this.criticOn && passed.length > 0) {
      const judged = await this.critique(passed.map((c) => c.text), number, shots);
      if (judged.usage !== null) {
        usage = usage === null ? judged.usage : addUsage(usage, judged.usage);
        calls++;
      }
      if (judged.verdicts === null) {
        criticNote = ` The critic could not judge it (${judged.problem}); its inputs were kept unjudged.`;
        goodVerdicts = passed.map(() => ({ verdict: 'unjudged', reason: judged.problem }));
      } else {
        const verdicts = judged.verdicts;
        good = passed.filter((_, i) => verdicts[i]!.good);
        goodVerdicts = good.map(() => ({ verdict: 'good', reason: null }));
        passed.forEach((candidate, i) => {
          if (!verdicts[i]!.good) reject(candidate.text, 'bad', verdicts[i]!.reason);
        });
        counts.bad = passed.length - good.length;
        const reasons = [...new Set(verdicts.filter((v) => !v.good).map((v) => v.reason))];
        if (reasons.length > 0) criticNote = ` Bad: ${reasons.slice(0, 3).join('; ')}.`;
      }
    }

    // 3. Accept, checking again: other batches may have accepted alike inputs
    // meanwhile (of this job, or of another job of its dataset: the dataset's
    // turn lasts until this batch is recorded). Judging is synchronous, so
    // batches never overshoot the target.
    const turn = this.sink.takeTurn !== undefined;
    if (turn) this.addTaken(await this.sink.takeTurn!());
    const fresh: string[] = [];
    const provenance: ItemProvenance[] = [];
    const examples: SourceRef[] = sampled.map(({ source, index }) => ({ source, index }));
    let considered = 0;
    for (const [i, candidate] of good.entries()) {
      if (this.accepted.length >= this.target || this.ending) break;
      considered++;
      const verdict = this.dedup.addIfUnique(candidate);
      if (this.countDuplicate(candidate.text, verdict, counts, similar, reject)) {
        const nearest = verdict.kind === 'unique' && verdict.nearest !== undefined ? this.neighbour(verdict.nearest.entry, verdict.nearest.similarity) : null;
        this.entrySources.push({ source: 'input', index: this.accepted.length });
        fresh.push(candidate.text);
        this.accepted.push(candidate.text);
        provenance.push({ batch: number, theme: theme ?? null, examples, model: this.provider.name, temperature, critic: goodVerdicts[i]!, nearest, accepted_at: this.now() });
      }
    }
    counts.candidates -= good.length - considered; // cut off by the target: not judged, not counted
    const duplicates = counts.exactDuplicates + counts.nearDuplicates;
    this.totalDuplicates += duplicates;
    this.totalBad += counts.bad;
    this.totalFiltered += counts.filtered;
    this.barrenStreak = fresh.length === 0 ? this.barrenStreak + 1 : 0;
    this.checkStreaks();
    if (theme !== undefined) {
      const use = this.themeUse.get(theme) ?? { batches: 0, accepted: 0 };
      this.themeUse.set(theme, { batches: use.batches + 1, accepted: use.accepted + fresh.length });
    }
    const bad = counts.filtered + counts.bad;
    const warmth = nextTemperature(this.temperature, this.mode.temperature, { good: fresh.length, similar: duplicates, bad });

    const parts = [`${label}: ${fresh.length} new input${fresh.length === 1 ? '' : 's'} accepted`];
    if (duplicates > 0) parts.push(`${duplicates} rejected as duplicates`);
    if (counts.filtered > 0) parts.push(`${counts.filtered} filtered out (empty, meta-text, refusal or far off the seeds' length)`);
    if (counts.bad > 0) parts.push(`${counts.bad} judged bad by the critic`);
    let message = `${parts.join(', ')} (${this.accepted.length}/${this.target} done).`;
    message += ` Progress: good ${this.accepted.length}/${this.target}, bad ${this.totalBad + this.totalFiltered}, similar ${this.totalDuplicates}.`;
    if (similar.best !== null) message += ` Most similar: ${similar.best.similarity.toFixed(2)} with "${clip(similar.best.of)}".`;
    message += criticNote;
    if (warmth.reason !== null) {
      message += ` Temperature ${this.temperature} -> ${warmth.temperature}: ${warmth.reason}.`;
      this.temperature = warmth.temperature;
    }
    await this.recordBatch({
      accepted: fresh,
      usage,
      message,
      counts,
      calls,
      provenance,
      rejected,
      turn,
      ...(economyAfter !== undefined && { economy: economyAfter(fresh.length) }),
      ...batchPart,
    });
  }

  private clock(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Counts a dedup verdict, and records a duplicate as rejected; answers whether the input is new. */
  private countDuplicate(
    input: string,
    verdict: DedupVerdict,
    counts: BatchCounts,
    similar: Similar,
    reject: (input: string, reason: RejectedCandidate['reason'], detail: string, extra?: Partial<RejectedCandidate>) => void,
  ): boolean {
    switch (verdict.kind) {
      case 'unique':
        return true;
      case 'exact':
        counts.exactDuplicates++;
        reject(input, 'exact_duplicate', `the same as "${clip(verdict.of)}" once case, spacing, punctuation and invisible characters are folded`, {
          duplicate_of: this.neighbour(verdict.entry, 1),
        });
        return false;
      case 'near':
        counts.nearDuplicates++;
        if (similar.best === null || verdict.similarity > similar.best.similarity) similar.best = verdict;
        reject(input, 'near_duplicate', `ROUGE-L ${verdict.similarity.toFixed(2)} with "${clip(verdict.of)}" (threshold ${this.mode.nearDuplicateThreshold})`, {
          duplicate_of: this.neighbour(verdict.entry, verdict.similarity),
        });
        return false;
      default:
        counts.filtered++;
        reject(input, 'filtered', 'nothing left once normalised', { filter: 'empty' });
        return false;
    }
  }

  /**
   * The critic: one call judging a batch's inputs. It never loses good
   * inputs: when it fails or answers something unusable, the batch is kept
   * unjudged (after the filters and dedup, which always run).
   */
  private async critique(
    inputs: string[],
    batchNumber: number,
    examples: string[],
  ): Promise<{ verdicts: Verdict[] | null; usage: TokenUsage | null; problem: string }> {
    try {
      const response = await this.provider.generateBatch({
        system: this.criticSystem,
        prompt: buildCritiquePrompt(inputs, examples.slice(0, 3)),
        count: inputs.length,
        temperature: this.mode.temperature.min,
        context: { ...this.context([], batchNumber), purpose: 'critique', toJudge: inputs },
        signal: this.calls.signal,
      });
      const verdicts = parseVerdicts(response.candidates, inputs.length);
      return { verdicts, usage: response.usage, problem: verdicts === null ? 'its answer did not give one verdict per input' : '' };
    } catch (error) {
      return { verdicts: null, usage: null, problem: error instanceof Error ? error.message : String(error) };
    }
  }

  private async record(accepted: string[], usage: TokenUsage | null, message: string, counts?: BatchCounts, calls?: number): Promise<void> {
    await this.recordBatch({ accepted, usage, message, counts, calls });
  }

  /** Records a batch; the sink's answer may carry a cancel. */
  private async recordBatch(batch: Parameters<JobSink['recordBatch']>[0]): Promise<void> {
    const { cancelRequested } = await this.sink.recordBatch(batch);
    if (cancelRequested) this.cancel();
  }

  /**
   * One LLM call, parsed. Answers null when it failed; the failure is counted,
   * reported, and followed by a short backoff before the next call.
   */
  private async call(
    label: string,
    shots: string[],
    count: number,
    prompt: string,
    extra: Partial<BatchContext> = {},
  ): Promise<{ inputs: string[]; usage: TokenUsage } | null> {
    try {
      const response = await this.provider.generateBatch({
        system: this.system,
        prompt,
        count,
        temperature: this.temperature,
        context: { ...this.context(shots, this.batchesStarted), ...extra },
        signal: this.calls.signal,
      });
      const parsed = parseBatch(response.candidates);
      if (parsed.problem !== undefined) {
        await this.failed(`${label}: unusable answer (${parsed.problem}); retrying.`, parsed.problem, response.usage, {
          ...NO_COUNTS,
          unusableAnswers: 1,
        });
        return null;
      }
      this.failureStreak = 0;
      return { inputs: parsed.inputs, usage: response.usage };
    } catch (error) {
      const reason = this.failure(error);
      if (reason !== null) await this.failed(`${label}: the LLM call failed (${reason}); retrying.`, reason, null);
      return null;
    }
  }

  /**
   * What a call that threw means: null when it needs no retry (the run is
   * stopping, or the provider refused for good and the job ends), else the
   * reason to count and report.
   */
  private failure(error: unknown): string | null {
    if (this.cancelled || this.interrupted || this.calls.signal.aborted) return null;
    const reason = describe(error);
    if (error instanceof FatalLlmError) {
      this.fatal = `Stopped: the LLM provider refused the request and retrying will not help: ${reason}`;
      return null;
    }
    return reason;
  }

  /** One more failed call in a row (interactive or batch API alike). */
  private countFailure(reason: string): void {
    this.failureStreak++;
    this.lastFailure = reason;
    this.checkStreaks();
  }

  private context(shots: string[], batchNumber: number): BatchContext {
    return {
      applicationDescription: this.job.request.application_description,
      shots,
      seeds: this.seeds,
      explorationMode: this.job.request.exploration_mode,
      batchNumber,
    };
  }

  private async failed(message: string, reason: string, usage: TokenUsage | null, counts?: BatchCounts): Promise<void> {
    this.countFailure(reason);
    await this.record([], usage, message, counts);
    if (!this.stopped) await this.backoff();
  }

  private async backoff(): Promise<void> {
    const base = this.options.retryBaseDelayMs ?? 500;
    const cap = this.options.retryMaxDelayMs ?? 15_000;
    const delay = Math.min(cap, base * 2 ** (this.failureStreak - 1)) * (0.5 + this.options.random() / 2);
    await sleep(delay, this.calls.signal);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** A request for new inputs, ready to send. */
interface Prepared {
  request: EconomyRequest;
  theme: string | undefined;
  sampled: Shot[];
  shots: string[];
  prompt: string;
}

function preparedFrom(request: EconomyRequest, sampled: Shot[]): Prepared {
  const shots = sampled.map((shot) => shot.text);
  const theme = request.theme ?? undefined;
  return { request, theme, sampled, shots, prompt: buildBatchPrompt(shots, request.count, theme) };
}

interface Similar {
  best: { of: string; similarity: number } | null;
}

/** Themes, once each (after normalising), and short enough to be themes. */
function distinctShort(items: string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const item of items) {
    const key = normalizeText(item);
    if (key === '' || seen.has(key) || key.split(' ').length > 20) continue;
    seen.add(key);
    out.push(item);
  }
  return out;
}
