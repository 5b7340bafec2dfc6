import type { JobRequest } from '../api';
import { FatalLlmError } from '../llm/errors';
import type { LlmProvider, TokenUsage } from '../llm/provider';
import { DedupIndex } from './dedup';
import { filterCandidate, lengthRange, type LengthRange } from './filters';
import { MODE_SETTINGS, type ModeSettings } from './modes';
import { parseBatch } from './parse';
import { buildBatchPrompt, buildFirstSeedsPrompt, buildSystemPrompt } from './prompt';
import type { Random } from './random';
import { sampleShots } from './sampling';
import { nextTemperature } from './temperature';

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
  recordBatch(batch: { accepted: string[]; usage: TokenUsage | null; message: string; counts?: BatchCounts }): Promise<{ cancelRequested: boolean }>;
  message(text: string): Promise<void>;
  /** Stores the seeds a seedless job wrote for itself, so a restart reuses them. */
  saveGeneratedSeeds(seeds: string[]): Promise<void>;
}

/** What became of one batch's candidates, for the job's report and the metrics. */
export interface BatchCounts {
  /** Candidates judged (those past the target are not). */
  candidates: number;
  exactDuplicates: number;
  nearDuplicates: number;
  /** Rejected by the heuristic filters (empty, meta-text, refusal, length). */
  filtered: number;
  /** Answers that held no usable input at all (refusals, empty or broken output). */
  unusableAnswers: number;
}

export const NO_COUNTS: BatchCounts = { candidates: 0, exactDuplicates: 0, nearDuplicates: 0, filtered: 0, unusableAnswers: 0 };

export interface EngineJob {
  jobId: string;
  request: JobRequest;
  /** Inputs already stored for this job (a restart after a crash), in order. */
  accepted: string[];
  /** Seeds written by an earlier run of a seedless job, if any. */
  generatedSeeds: string[] | null;
}

export interface EngineOptions {
  maxParallelBatches: number;
  /** Batches in a row that yield nothing new before the job gives up. */
  maxBarrenBatches: number;
  /** Failed LLM calls in a row (errors, unusable output) before the job gives up. */
  maxFailedCalls: number;
  random: Random;
  /** Pause before retrying after a failed call: base * 2^(failures-1), capped, with jitter. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
}

/**
 * How a run ended. DONE, ERROR and CANCELLED end the job; INTERRUPTED does
 * not: the worker is going away and the job resumes elsewhere from what is stored.
 */
export type EngineOutcome = { state: 'DONE' | 'ERROR' | 'CANCELLED' | 'INTERRUPTED'; message: string };

/** How many seeds a job given none writes for itself first. */
export const FIRST_SEEDS_COUNT = 5;

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
  private fatal: string | null = null;
  private cancelled = false;
  private interrupted = false;
  /** Aborts this run's own calls: on cancel, and when the run ends early. */
  private readonly calls = new AbortController();

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
    this.dedup = new DedupIndex(this.mode.nearDuplicateThreshold);
    for (const seed of this.seeds) this.dedup.add(seed);
    for (const input of this.accepted) this.dedup.add(input);
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
      if (this.seeds.length === 0 && !this.cancelled) await this.writeFirstSeeds();
      if (this.seeds.length > 0) await this.fill();
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
    return this.cancelled || this.fatal !== null || this.gaveUp() !== null;
  }

  private gaveUp(): string | null {
    if (this.barrenStreak >= this.options.maxBarrenBatches) {
      return `Stopped: ${this.barrenStreak} batches in a row produced no new inputs (the model keeps repeating earlier ones). Try a more adventurous exploration mode or more varied seeds.`;
    }
    if (this.failureStreak >= this.options.maxFailedCalls) {
      return `Stopped: ${this.failureStreak} LLM calls in a row failed; the last one: ${this.lastFailure}.`;
    }
    return null;
  }

  private outcome(): EngineOutcome {
    const kept = `${this.accepted.length} of ${this.target} inputs`;
    if (this.cancelled) return { state: 'CANCELLED', message: `Cancelled; kept ${kept}.` };
    if (this.interrupted && this.accepted.length < this.target) {
      return { state: 'INTERRUPTED', message: `Interrupted: the worker is shutting down with ${kept} stored; another worker resumes the job.` };
    }
    // All N are in: answers that came late (cut by the target, or failed) cannot make the job fail.
    if (this.accepted.length >= this.target) return this.done();
    if (this.fatal !== null) return { state: 'ERROR', message: `${this.fatal} Kept ${kept}.` };
    const gaveUp = this.gaveUp();
    if (gaveUp !== null) return { state: 'ERROR', message: `${gaveUp} Kept ${kept}.` };
    return this.done();
  }

  private done(): EngineOutcome {
    return {
      state: 'DONE',
      message: `Done: ${this.target} inputs generated in ${this.batchesStarted} batches (${this.totalDuplicates} duplicates rejected).`,
    };
  }

  private async announce(): Promise<void> {
    const r = this.job.request;
    if (this.job.accepted.length > 0) {
      await this.sink.message(`Resumed: ${this.accepted.length} of ${this.target} inputs were already stored; continuing.`);
      return;
    }
    await this.sink.message(
      `Started: generating ${this.target} inputs in ${r.exploration_mode} mode, ${r.batch_size} per batch, ` +
        `${r.num_shots} examples per prompt, up to ${this.options.maxParallelBatches} batches at a time, with ${this.provider.name}.`,
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
      const result = await this.call([], FIRST_SEEDS_COUNT, buildFirstSeedsPrompt(FIRST_SEEDS_COUNT));
      if (result === null) continue;
      const seeds: string[] = [];
      for (const input of result.inputs) {
        if (seeds.length >= FIRST_SEEDS_COUNT || !filterCandidate(input, null, this.job.request.exploration_mode).ok) continue;
        if (this.dedup.checkAndAdd(input).kind === 'unique') seeds.push(input);
      }
      if (seeds.length === 0) {
        this.barrenStreak++;
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

  /** Keeps up to maxParallelBatches calls in flight until exactly `target` inputs are accepted. */
  private async fill(): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const batchSize = this.job.request.batch_size;
    while (this.accepted.length < this.target && !this.stopped) {
      const remaining = this.target - this.accepted.length;
      // Never more calls in flight than the inputs still missing could use.
      while (inFlight.size < this.options.maxParallelBatches && inFlight.size * batchSize < remaining) {
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

  private async runBatch(): Promise<void> {
    const number = ++this.batchesStarted;
    const r = this.job.request;
    const shots = sampleShots(this.seeds, this.accepted, r.num_shots, this.mode, this.options.random);
    const result = await this.call(shots, r.batch_size, buildBatchPrompt(shots, r.batch_size), number);
    if (result === null) return;
    if (this.ending) {
      // Too late to use, but its tokens were spent: record the usage.
      await this.record([], result.usage, `Batch ${number}: answer discarded, the job is stopping.`);
      return;
    }

    // Judging is synchronous, so concurrent batches never overshoot the target.
    const fresh: string[] = [];
    const counts = { ...NO_COUNTS };
    for (const input of result.inputs) {
      if (this.accepted.length >= this.target) break;
      counts.candidates++;
      if (!filterCandidate(input, this.seedLengths, this.job.request.exploration_mode).ok) {
        counts.filtered++;
        continue;
      }
      const verdict = this.dedup.checkAndAdd(input);
      if (verdict.kind === 'unique') {
        fresh.push(input);
        this.accepted.push(input);
      } else if (verdict.kind === 'exact') counts.exactDuplicates++;
      else if (verdict.kind === 'near') counts.nearDuplicates++;
      else counts.filtered++;
    }
    const duplicates = counts.exactDuplicates + counts.nearDuplicates;
    this.totalDuplicates += duplicates;
    this.barrenStreak = fresh.length === 0 ? this.barrenStreak + 1 : 0;
    const warmth = nextTemperature(this.temperature, this.mode.temperature, { good: fresh.length, similar: duplicates, bad: counts.filtered });

    const parts = [`Batch ${number}: ${fresh.length} new input${fresh.length === 1 ? '' : 's'} accepted`];
    if (duplicates > 0) parts.push(`${duplicates} rejected as duplicates`);
    if (counts.filtered > 0) parts.push(`${counts.filtered} filtered out (empty, meta-text, refusal or far off the seeds' length)`);
    let message = `${parts.join(', ')} (${this.accepted.length}/${this.target} done).`;
    if (warmth.reason !== null) {
      message += ` Temperature ${this.temperature} -> ${warmth.temperature}: ${warmth.reason}.`;
      this.temperature = warmth.temperature;
    }
    await this.record(fresh, result.usage, message, counts);
  }

  private async record(accepted: string[], usage: TokenUsage | null, message: string, counts?: BatchCounts): Promise<void> {
    const { cancelRequested } = await this.sink.recordBatch({ accepted, usage, message, counts });
    if (cancelRequested) this.cancel();
  }

  /**
   * One LLM call, parsed. Answers null when it failed; the failure is counted,
   * reported, and followed by a short backoff before the next call.
   */
  private async call(
    shots: string[],
    count: number,
    prompt: string,
    batchNumber = this.batchesStarted,
  ): Promise<{ inputs: string[]; usage: TokenUsage } | null> {
    try {
      const response = await this.provider.generateBatch({
        system: this.system,
        prompt,
        count,
        temperature: this.temperature,
        context: {
          applicationDescription: this.job.request.application_description,
          shots,
          seeds: this.seeds,
          explorationMode: this.job.request.exploration_mode,
          batchNumber,
        },
        signal: this.calls.signal,
      });
      const parsed = parseBatch(response.candidates);
      if (parsed.problem !== undefined) {
        await this.failed(`Batch ${batchNumber}: unusable answer (${parsed.problem}); retrying.`, parsed.problem, response.usage, {
          ...NO_COUNTS,
          unusableAnswers: 1,
        });
        return null;
      }
      this.failureStreak = 0;
      return { inputs: parsed.inputs, usage: response.usage };
    } catch (error) {
      if (this.cancelled || this.interrupted || this.calls.signal.aborted) return null;
      const reason = error instanceof Error ? error.message : String(error);
      if (error instanceof FatalLlmError) {
        this.fatal = `Stopped: the LLM provider refused the request and retrying will not help: ${reason}`;
        return null;
      }
      await this.failed(`Batch ${batchNumber}: the LLM call failed (${reason}); retrying.`, reason, null);
      return null;
    }
  }

  private async failed(message: string, reason: string, usage: TokenUsage | null, counts?: BatchCounts): Promise<void> {
    this.failureStreak++;
    this.lastFailure = reason;
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
