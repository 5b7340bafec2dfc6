import type { JobSink } from '../engine/engine';
import type { TerminalState } from '../model/job';
import type { JobStore } from '../store/jobStore';
import type { JobRecord } from '../store/records';
import type { JobService } from './jobService';

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

  constructor(
    private readonly service: JobService,
    private readonly store: JobStore,
    readonly record: JobRecord,
    items: string[],
    readonly owner: string,
  ) {
    this.stored = items;
  }

  get jobId(): string {
    return this.record.jobId;
  }

  recordBatch(batch: Parameters<JobSink['recordBatch']>[0]): Promise<{ cancelRequested: boolean }> {
    const write = this.writes.then(async () => {
      if (this.refused !== null) throw this.refused;
      const u = batch.usage;
      const usage = { inputTokens: u?.inputTokens ?? 0, outputTokens: u?.outputTokens ?? 0, calls: batch.calls ?? (u === null ? 0 : 1) };
      try {
        const { cancelRequested } = await this.store.appendBatch(this.jobId, this.owner, this.stored.length, {
          accepted: batch.accepted,
          usage,
          counts: batch.counts,
          message: batch.message,
          provenance: batch.provenance,
          rejected: batch.rejected,
        });
        this.stored.push(...batch.accepted);
        return { cancelRequested };
      } catch (error) {
        this.refused = error;
        throw error;
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
}
