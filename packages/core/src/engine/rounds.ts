import type { BatchApi, BatchItemResult } from '../llm/provider';
import { customIdOf, requestIndexOf, type EconomyRequest, type EconomyState } from '../model/economy';
import { NO_COUNTS, type BatchCounts, type TokenUsage } from '../model/job';
import { formatWait, planRound, pollDelayMs } from './economy';
import { parseBatch } from './parse';
import { clip, describe } from './quote';

/**
 * Economy mode's rounds: requests for new inputs sent through the provider's
 * batch API, a round at a time. A run of an economy job takes one step
 * (submit, poll, or read and judge) and gives the job back while the provider
 * works. Planning is pure (economy.ts); judging, the failure streaks and the
 * sink stay with the run, which lends them through RoundsHost.
 */

/** The provider's batch API and the polling schedule (EngineOptions.economy). */
export interface EconomySettings {
  batches: BatchApi;
  pollMinMs: number;
  pollMaxMs: number;
  maxFailedRounds: number;
  /** Requests a round plans past those it expects to need, as a share of them. */
  overshoot: number;
}

/** One request as the batch API takes it. */
export type RoundRequest = Parameters<BatchApi['submit']>[0][number]['request'];

/** What the rounds use of the generation run they belong to. */
export interface RoundsHost {
  readonly jobId: string;
  readonly target: number;
  /** Inputs one request asks for (the job's batch_size). */
  readonly batchSize: number;
  /** Inputs accepted so far. */
  accepted(): number;
  /** No new calls: the job is ending or the worker going away. */
  stopped(): boolean;
  cancelled(): boolean;
  /** Aborts the run's own calls. */
  readonly signal: AbortSignal;
  /** Now, in ms since epoch. */
  clock(): number;
  /** A new request for inputs, drawn as an interactive batch's is (theme, examples, temperature). */
  plan(): EconomyRequest;
  /** A stored request made again (the same examples, theme and temperature), ready to send. */
  toSend(request: EconomyRequest, batchNumber: number): RoundRequest;
  /** Numbers an answer among the run's batches. */
  nextBatch(): number;
  /** Judges an answer like an interactive batch's, billed as a batch-API request; the state `economyAfter` gives is written with it. */
  judge(
    number: number,
    label: string,
    request: EconomyRequest,
    answer: { inputs: string[]; usage: TokenUsage },
    economyAfter: (accepted: number) => EconomyState,
  ): Promise<void>;
  /** Records an answer that held no inputs (a cancel in the sink's answer cancels the run). */
  record(batch: {
    accepted: string[];
    usage: null;
    batchUsage: TokenUsage;
    batchRequests: number;
    message: string;
    counts: BatchCounts;
    economy: EconomyState;
  }): Promise<void>;
  saveEconomy(state: EconomyState, message: string | null): Promise<void>;
  message(text: string): Promise<void>;
  /** A call of the batch API answered: it ends the run's streak of failed calls. */
  callSucceeded(): void;
  /**
   * A call of the batch API failed: counted like a failed LLM call (or the
   * end of the job when fatal). Answers the reason to report, or null when
   * there is nothing to report.
   */
  callFailed(error: unknown): string | null;
  /** Ends the job with this reason. */
  giveUp(reason: string): void;
}

export class EconomyRounds {
  /** The state as stored. */
  private economy: EconomyState;
  /** When a step ends with a provider batch running: how long until the job should look again. */
  private wait: number | null = null;

  constructor(
    private readonly run: RoundsHost,
    private readonly settings: EconomySettings,
    stored: EconomyState,
  ) {
    this.economy = stored;
  }

  /** The last round started (0: none yet). */
  get round(): number {
    return this.economy.round;
  }

  get waitMs(): number | null {
    return this.wait;
  }

  /**
   * One step of an economy job: submits a round, polls it, or reads its
   * results and goes on to the next round, until the target is met, the job
   * stops, or a provider batch is running (then `waitMs` says when to look
   * again, and the worker gives the job back to the queue meanwhile). Every
   * change of the round is stored before anything depends on it.
   */
  async step(): Promise<void> {
    const settings = this.settings;
    /** The current round's batch has ended (its results are being judged): nothing to cancel. */
    let batchEnded = false;
    while (!this.run.stopped() && this.run.accepted() < this.run.target) {
      const current = this.economy.current;
      if (current === null || current.phase === 'submitting') {
        if (!(await this.submitRound())) return;
        continue; // submitted: one poll now (a fast provider may be done)
      }
      const batchId = current.batchId!;
      const batch = await this.call(`Round ${current.round}: reading provider batch ${batchId}`, () => settings.batches.retrieve(batchId, this.run.signal));
      if (batch === null) {
        if (!this.run.stopped()) this.wait = pollDelayMs(current.polls, settings.pollMinMs, settings.pollMaxMs);
        break;
      }
      const waited = Math.max(0, this.run.clock() - (current.submittedAt ?? current.startedAt));
      if (batch.status !== 'ended') {
        const n = current.requests.length;
        const done = n - batch.counts.processing;
        const next = { ...current, polls: current.polls + 1 };
        await this.save(
          { ...this.economy, current: next },
          `Round ${current.round}: ${n} requests sent as provider batch ${batchId} (half price); waiting, ${done} of ${n} done, waited ${formatWait(waited)}.`,
        );
        this.wait = pollDelayMs(next.polls, settings.pollMinMs, settings.pollMaxMs);
        break;
      }
      const results = await this.call(`Round ${current.round}: reading the results of provider batch ${batchId}`, () =>
        settings.batches.results(batchId, this.run.signal),
      );
      if (results === null) {
        if (!this.run.stopped()) this.wait = pollDelayMs(0, settings.pollMinMs, settings.pollMaxMs);
        break;
      }
      batchEnded = true;
      await this.acceptRound(results, waited);
      batchEnded = false;
    }
    // A cancel while a round's batch runs: the provider stops it too (what it answered is paid for either way).
    if (this.run.cancelled() && !batchEnded && this.economy.current?.batchId != null) {
      const id = this.economy.current.batchId;
      await settings.batches.cancel(id).then(
        () => this.run.message(`Round ${this.economy.round}: provider batch ${id} cancelled.`),
        (error: unknown) =>
          this.run.message(`Round ${this.economy.round}: provider batch ${id} could not be cancelled (${describe(error)}); it ends by itself and is billed for what it ran.`),
      );
    }
  }

  /** Plans the next round (or makes the one recorded as submitting again) and submits it; answers whether it was submitted. */
  private async submitRound(): Promise<boolean> {
    const settings = this.settings;
    let state = this.economy;
    let round = state.current;
    let note = '';
    if (round === null) {
      const remaining = this.run.target - this.run.accepted();
      const plan = planRound({
        remaining,
        batchSize: this.run.batchSize,
        answered: state.answered,
        accepted: state.acceptedFromBatches,
        overshoot: settings.overshoot,
      });
      const requests = Array.from({ length: plan.requests }, () => this.run.plan());
      round = { round: state.round + 1, phase: 'submitting', batchId: null, startedAt: this.run.clock(), submittedAt: null, polls: 0, processed: 0, requests };
      note = `expecting about ${plan.expectedYield} inputs from each, ${remaining} still needed`;
      state = { ...state, round: round.round, current: round };
      // Recorded before the provider hears of it: a worker that dies while submitting leaves a trace.
      await this.save(state, null);
    } else {
      // A worker stopped between asking the provider and storing its answer: the provider may have the batch.
      const tag = this.batchTag(round.round);
      const find = settings.batches.find;
      if (find !== undefined) {
        const looked = await this.call(`Round ${round.round}: looking for the batch the stopped worker submitted`, async () => ({
          found: await find(tag, this.run.signal),
        }));
        if (looked === null) {
          // Could not look: look again later rather than risk paying for the round twice.
          if (!this.run.stopped()) this.wait = pollDelayMs(0, settings.pollMinMs, settings.pollMaxMs);
          return false;
        }
        const { found } = looked;
        if (found !== null) {
          const next = { ...round, phase: 'submitted' as const, batchId: found.id, submittedAt: round.startedAt };
          await this.save(
            { ...state, current: next, batches: state.batches + 1 },
            `Round ${round.round}: the worker that submitted it stopped before storing its batch id; found it at the provider as ${found.id}, so it is not submitted again.`,
          );
          return true;
        }
      }
      note = 'again: the worker that was submitting it stopped before the provider answered with a batch id';
    }
    const submitted = round;
    const requests = submitted.requests.map((request, i) => ({
      customId: customIdOf(submitted.round, i),
      request: this.run.toSend(request, submitted.round * 100_000 + i),
    }));
    const batch = await this.call(`Round ${submitted.round}: submitting ${requests.length} requests`, () =>
      settings.batches.submit(requests, this.run.signal, this.batchTag(submitted.round)),
    );
    if (batch === null) {
      if (!this.run.stopped()) this.wait = pollDelayMs(0, settings.pollMinMs, settings.pollMaxMs);
      return false;
    }
    const next = { ...submitted, phase: 'submitted' as const, batchId: batch.id, submittedAt: this.run.clock() };
    await this.save(
      { ...state, current: next, batches: state.batches + 1 },
      `Round ${submitted.round}: ${requests.length} requests sent as provider batch ${batch.id} (half price), ${note}.`,
    );
    return true;
  }

  /** An ended round: judges each answer as an interactive batch would be judged, then closes the round. */
  private async acceptRound(results: BatchItemResult[], waited: number): Promise<void> {
    const round = this.economy.current!;
    const byIndex = new Map<number, BatchItemResult>();
    for (const result of results) {
      const i = requestIndexOf(round.round, result.customId);
      if (i !== null && i < round.requests.length) byIndex.set(i, result);
    }
    const missing = { errored: 0, expired: 0, canceled: 0, lost: 0 };
    let answered = 0;
    const acceptedBefore = this.run.accepted();
    const reasons = new Set<string>();
    for (let i = 0; i < round.requests.length; i++) {
      const result = byIndex.get(i);
      if (result === undefined) missing.lost++;
      else if (result.kind !== 'succeeded') {
        missing[result.kind]++;
        reasons.add(result.reason);
      } else answered++;
      // Answers recorded by an earlier run of this round (it died while reading them) are not judged twice.
      if (i < round.processed || result === undefined || result.kind !== 'succeeded') continue;
      if (this.run.cancelled()) break;
      const number = this.run.nextBatch();
      const request = round.requests[i]!;
      const theme = request.theme ?? undefined;
      const label = `Round ${round.round}, request ${i + 1} of ${round.requests.length}${theme === undefined ? '' : ` (theme: ${clip(theme, 60)})`}`;
      const after = (accepted: number): EconomyState => {
        this.economy = {
          ...this.economy,
          current: { ...this.economy.current!, processed: i + 1 },
          answered: this.economy.answered + 1,
          acceptedFromBatches: this.economy.acceptedFromBatches + accepted,
        };
        return this.economy;
      };
      const parsed = parseBatch(result.result.candidates);
      if (parsed.problem !== undefined) {
        await this.run.record({
          accepted: [],
          usage: null,
          batchUsage: result.result.usage,
          batchRequests: 1,
          message: `${label}: unusable answer (${parsed.problem}).`,
          counts: { ...NO_COUNTS, unusableAnswers: 1 },
          economy: after(0),
        });
        continue;
      }
      await this.run.judge(number, label, request, { inputs: parsed.inputs, usage: result.result.usage }, after);
    }
    if (this.run.cancelled()) return;
    const n = round.requests.length;
    const failed = missing.errored + missing.expired + missing.canceled + missing.lost;
    const accepted = this.run.accepted();
    const gained = accepted - acceptedBefore;
    const failedRounds = answered === 0 ? this.economy.failedRounds + 1 : 0;
    let message = `Round ${round.round} ended after ${formatWait(waited)}: ${answered} of ${n} requests answered, ${gained} inputs accepted (${accepted}/${this.run.target} done).`;
    if (failed > 0) {
      const parts = (Object.entries(missing) as Array<[string, number]>).filter(([, k]) => k > 0).map(([kind, k]) => `${k} ${kind}`);
      message += ` ${parts.join(', ')}${reasons.size > 0 ? ` (${[...reasons].slice(0, 2).join('; ')})` : ''}; the next round asks again.`;
    }
    if (failedRounds >= this.settings.maxFailedRounds && accepted < this.run.target) {
      this.run.giveUp(`Stopped: ${failedRounds} rounds in a row got no answer from the provider's batch API (expired, errored or cancelled).`);
    }
    await this.save({ ...this.economy, current: null, failedRounds, waitedMs: this.economy.waitedMs + waited }, message);
  }

  /** One call of the batch API; null when it failed (counted like a failed LLM call, or the end of the job when fatal). */
  private async call<T>(label: string, call: () => Promise<T>): Promise<T | null> {
    try {
      const answer = await call();
      this.run.callSucceeded();
      return answer;
    } catch (error) {
      const reason = this.run.callFailed(error);
      if (reason !== null) await this.run.message(`${label} failed (${reason}); trying again later.`);
      return null;
    }
  }

  /** What a round's provider batch is tagged with, where the provider keeps metadata: the job and the round. */
  private batchTag(round: number): string {
    return `${this.run.jobId}:r${round}`;
  }

  private async save(state: EconomyState, message: string | null): Promise<void> {
    await this.run.saveEconomy(state, message);
    this.economy = state;
  }
}
