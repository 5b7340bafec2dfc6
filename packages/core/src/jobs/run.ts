import type { JobSink } from '../engine/engine';
import type { EconomyState } from '../model/economy';
import type { JobUsage, TerminalState } from '../model/job';
import type { JobStore } from '../store/jobStore';
import type { JobRecord } from '../store/records';
import { JobOwnershipLostError } from '../store/status';
import { DatasetFullError } from './errors';
import type { JobService } from './jobService';

/** A run's view of its job's dataset. */
export interface RunDataset {
  name: string;
  /** The most inputs the dataset may hold (DATASET_MAX_ITEMS; 0: no limit). */
  maxItems: number;
  /** How many of the dataset's inputs the run has read (its next read starts there). */
  seen: number;
}

/** How long a run may hold its dataset's turn (a batch's accept and writes take milliseconds). */
const TURN_TTL_MS = 10_000;
/** How long a run waits for its dataset's turn before it gives up (the attempt fails and is retried). */
const TURN_WAIT_MS = 120_000;

/**
 * One worker's run of a job, from its claim to its end: the engine's sink.
 * The run is the job's one writer while it owns the job (the store checks
 * its owner token on every write), and it counts an input as stored only
 * once Redis has confirmed the write: its batches are written one after the
 * other, each at the position the one before it left, and after a refused
 * write nothing more is written (the refusal is rethrown to every later one).
 */
export class JobRun implements JobSink {
  /** The job's inputs as stored and confirmed, in order: those found at the claim, then each batch written. */
  readonly stored: string[];
  private writes: Promise<unknown> = Promise.resolve();
  private refused: unknown = null;
  /** The run's batches take the dataset's turn one after the other (the end of one turn starts the next). */
  private turns: Promise<void> = Promise.resolve();
  private endTurn: (() => Promise<void>) | null = null;

  constructor(
    private readonly service: JobService,
    private readonly store: JobStore,
    readonly record: JobRecord,
    items: string[],
    readonly owner: string,
    /** The job's dataset, if it names one: the engine is then given `takeTurn`. */
    private readonly dataset: RunDataset | null = null,
  ) {
    this.stored = items;
    if (dataset === null) this.takeTurn = undefined;
  }

  /**
   * Waits for the dataset's turn (this run's batches one at a time, then the
   * dataset's lock among all its jobs) and answers the inputs other jobs
   * added to the dataset since the run last looked. The turn ends when the
   * batch is recorded.
   */
  takeTurn?: () => Promise<Array<{ index: number; input: string }>> = async () => {
    const dataset = this.dataset!;
    const previous = this.turns;
    let done!: () => void;
    this.turns = new Promise<void>((resolve) => (done = resolve));
    await previous;
    try {
      const deadline = Date.now() + TURN_WAIT_MS;
      while (!(await this.store.takeDatasetTurn(this.record.tenant, dataset.name, this.owner, TURN_TTL_MS))) {
        if (Date.now() > deadline) throw new JobOwnershipLostError(`job ${this.jobId} waited ${TURN_WAIT_MS / 1000} s for its dataset's turn`, 'conflict');
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
      }
      this.endTurn = async () => {
        this.endTurn = null;
        await this.store.releaseDatasetTurn(this.record.tenant, dataset.name, this.owner).catch(() => undefined);
        done();
      };
      const fresh: Array<{ index: number; input: string }> = [];
      for (;;) {
        const page = await this.store.readDatasetItems(this.record.tenant, dataset.name, dataset.seen, 5_000);
        for (const item of page) if (item.jobId !== this.jobId) fresh.push({ index: item.index, input: item.input });
        if (page.length > 0) dataset.seen = page[page.length - 1]!.index + 1;
        if (page.length < 5_000) return fresh;
      }
    } catch (error) {
      if (this.endTurn !== null) await this.endTurn();
      else done();
      throw error;
    }
  };

  get jobId(): string {
    return this.record.jobId;
  }

  recordBatch(batch: Parameters<JobSink['recordBatch']>[0]): Promise<{ cancelRequested: boolean }> {
    const write = this.writes.then(async () => {
      const usage = jobUsageOf(batch);
      try {
        if (this.refused !== null) throw this.refused;
        // A dataset's inputs first, under the turn: the dataset is what says an input is taken.
        // (A run that dies between the two writes finds the job's missing ones there when resumed.)
        if (this.dataset !== null && batch.accepted.length > 0) {
          if (batch.turn !== true) throw new Error(`job ${this.jobId}: a batch of a dataset's job was accepted outside the dataset's turn`);
          await this.addToDataset(batch.accepted);
        }
        const { cancelRequested } = await this.store.appendBatch(this.jobId, this.owner, this.stored.length, {
          accepted: batch.accepted,
          usage,
          counts: batch.counts,
          message: batch.message,
          provenance: batch.provenance,
          rejected: batch.rejected,
          ...(batch.economy !== undefined && { economy: batch.economy }),
        });
        this.stored.push(...batch.accepted);
        return { cancelRequested };
      } catch (error) {
        this.refused = error;
        throw error;
      } finally {
        if (batch.turn === true) await this.endTurn?.();
      }
    });
    this.writes = write.catch(() => undefined);
    return write;
  }

  async message(text: string): Promise<void> {
    await this.store.addMessage(this.jobId, this.owner, text);
  }

  async saveGeneratedSeeds(seeds: string[]): Promise<void> {
    await this.store.saveNotes(this.jobId, this.owner, { generatedSeeds: seeds });
  }

  async saveThemes(themes: string[]): Promise<void> {
    await this.store.saveNotes(this.jobId, this.owner, { themes });
  }

  /** Economy mode: the round state (and its message), after every batch written before it. */
  async saveEconomy(state: EconomyState, message: string | null): Promise<void> {
    await this.writes;
    if (this.refused !== null) throw this.refused;
    await this.store.saveEconomy(this.jobId, this.owner, state, message);
  }

  /** Ends the job as the engine says, with the report of the inputs stored; answers the state it ended in. */
  async finish(state: TerminalState, message: string): Promise<TerminalState | null> {
    await this.writes; // every batch written before the end
    if (this.refused !== null) throw this.refused;
    const report = await this.service.measureReport(this.stored);
    return this.service.end(this.record, this.owner, { state, message, report }, this.stored);
  }

  /** The worker is going away: a last message, and the job goes back to the queue. */
  async handBack(message: string): Promise<void> {
    await this.writes;
    if (this.refused !== null) throw this.refused;
    await this.message(message);
  }

  private async addToDataset(inputs: string[]): Promise<void> {
    const dataset = this.dataset!;
    const outcome = await this.store.appendDataset(this.record.tenant, dataset.name, {
      token: this.owner,
      jobId: this.jobId,
      at: this.stored.length,
      max: dataset.maxItems,
      inputs,
    });
    if (outcome.kind === 'full') throw new DatasetFullError(dataset.name, outcome.count, dataset.maxItems);
    if (outcome.kind !== 'added') throw new JobOwnershipLostError(`job ${this.jobId} lost its dataset's turn or place (${outcome.kind})`, 'conflict');
  }
}

/** A recorded batch's usage as the job's usage fields: its interactive and batch-API tokens together, the batch part apart too. */
export function jobUsageOf(batch: Pick<Parameters<JobSink['recordBatch']>[0], 'usage' | 'batchUsage' | 'calls' | 'batchRequests'>): JobUsage {
  const u = batch.usage;
  const b = batch.batchUsage ?? null;
  const batchRequests = batch.batchRequests ?? 0;
  const calls = batch.calls ?? (u === null ? 0 : 1);
  return {
    inputTokens: (u?.inputTokens ?? 0) + (b?.inputTokens ?? 0),
    outputTokens: (u?.outputTokens ?? 0) + (b?.outputTokens ?? 0),
    cacheReadTokens: (u?.cacheReadTokens ?? 0) + (b?.cacheReadTokens ?? 0),
    cacheWriteTokens: (u?.cacheWriteTokens ?? 0) + (b?.cacheWriteTokens ?? 0),
    calls: calls + batchRequests,
    batchInputTokens: b?.inputTokens ?? 0,
    batchOutputTokens: b?.outputTokens ?? 0,
    batchCacheReadTokens: b?.cacheReadTokens ?? 0,
    batchCacheWriteTokens: b?.cacheWriteTokens ?? 0,
    batchRequests,
  };
}
