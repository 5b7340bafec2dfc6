import { randomUUID } from 'node:crypto';
import type { DataGenerationStatus, DatasetView, ItemView, JobRequest, RejectedView } from '../contract';
import { isTerminal, type JobReport, type JobState, type TerminalState } from '../model/job';
import type { Price } from '../model/pricing';
import { jobOptions, type GenerationQueue } from '../queue/queue';
import { FOLLOW_START, type JobFollower } from '../store/followJob';
import { sha256 } from '../store/idempotency';
import type { JobStore } from '../store/jobStore';
import type { IndexEntry, TenantIndex } from '../store/pageTenantJobs';
import type { JobRead, ReadSelection } from '../store/readJob';
import type { DatasetInfo } from '../store/datasetInfo';
import type { StoredItem } from '../store/readItemPage';
import type { StallCount } from '../store/claimJob';
import type { JobRecord, JobSummary } from '../store/records';
import { JobOwnershipLostError } from '../store/status';
import {
  DatasetBusyError,
  DatasetNotFoundError,
  EconomyUnavailableError,
  IdempotencyConflictError,
  IdempotencyPendingError,
  IncompleteJobError,
  InvalidCursorError,
  JobEndedError,
  JobNotFoundError,
  QuotaExceededError,
} from './errors';
import { cancelledMessage, QUEUED_MESSAGE, stalledOutMessage, waitingTurnMessage } from '../model/messages';
import type { AdmitOutcome, Quota } from '../store/admitJob';
import { measureReportInline, type ReportMeasure } from './report';
import { JobRun } from './run';
import { queueView, resolveState, settlement } from './state';
import { buildStatus } from './status';

/**
 * The job lifecycle, in one place: submit, status, list, cancel and follow
 * for the API; claim, finish and fail for the worker. Both processes call
 * it, and only it writes a job's state (through the store's finish, once)
 * and reads it (through `current`, with the one rule of jobs/state.ts).
 */

export interface JobServiceOptions {
  retentionHours: number;
  /** The configured model's price, for the cost estimate (null: unknown). */
  price: Price | null;
  /** The configured model (named in the report when its price is unknown; null: the offline generator). */
  model?: string | null;
  /** Told of each job this process ended, with its state (metrics). */
  onEnded?: (state: TerminalState) => void;
  /**
   * Told of each job this process ended, once its end is written (webhooks:
   * it reads what it needs). Awaited; its failure never fails the end.
   */
  onJobEnded?: (jobId: string, state: TerminalState) => Promise<void> | void;
  /** How the report of a job ended here is measured: in this thread (the default, for workers) or off it (the API). */
  measureReport?: ReportMeasure;
  /** fair (the default): a job's queue priority is its rank among its key's unfinished jobs, so keys take turns; fifo: first in, first out. */
  scheduling?: 'fair' | 'fifo';
  /** A tenant's quotas (the API's, from QUOTA_* and KEY_QUOTAS); none when absent. */
  quotaOf?: (tenant: string) => Quota;
  /** The most inputs a dataset may hold (DATASET_MAX_ITEMS); 0 or absent: no limit. */
  datasetMaxItems?: number;
  /**
   * Economy mode (README "Economy mode"): whether the provider has a batch API
   * (`provider`: its name, for the refusal), whether jobs that do not say use
   * it (ECONOMY_DEFAULT), and how a job's provider batch is cancelled when the
   * job is cancelled between two polls. Absent: no economy mode.
   */
  economy?: { available: boolean; provider: string; byDefault: boolean; cancelBatch?: (batchId: string) => Promise<void> };
}

/** A page of a tenant's jobs: newest last; `next` continues with older ones. */
export interface JobPage {
  jobs: DataGenerationStatus[];
  next: string | null;
}

export interface ListQuery {
  state?: JobState;
  limit: number;
  cursor?: string;
}

/** What a follower of a job receives, in order: what each read brought, then the end. */
export type FollowEvent = { kind: 'items'; texts: string[] } | { kind: 'messages'; texts: string[] } | { kind: 'end'; state: TerminalState };

/** An open follow of a job: its state when it opened, its events, and a way to stop early. */
export interface JobFollow {
  state: JobState;
  events: AsyncGenerator<FollowEvent, void, undefined>;
  /** Stops the follow (the client went away); the events end. */
  close(): void;
}

/** How a worker's claim of a job turned out. */
export type RunStart = { kind: 'run'; run: JobRun; taken: Array<{ index: number; input: string }> } | { kind: 'over'; state: TerminalState | null };

/** How long one blocking read of a follow waits before it checks the job's state again. */
const FOLLOW_BLOCK_MS = 5_000;
/** Entries one read of a follow takes from each stream: what a reader that stops reading may hold. */
export const FOLLOW_READ_COUNT = 64;

export class JobService {
  private readonly followers = new Set<JobFollower>();
  readonly measureReport: ReportMeasure;

  constructor(
    readonly store: JobStore,
    readonly queue: GenerationQueue,
    readonly options: JobServiceOptions,
  ) {
    this.measureReport = options.measureReport ?? measureReportInline;
  }

  // ---------------------------------------------------------------- reads

  /**
   * The job as it stands, read through the one rule: the store's record,
   * read in one step with the parts `select` asks for, and BullMQ's view of
   * it when the store has no end. Null when the job does not exist.
   */
  async current(jobId: string, select: ReadSelection = {}): Promise<{ read: JobRead; state: JobState } | null> {
    let confirmed = false;
    for (let attempt = 0; attempt < 4; attempt++) {
      const read = await this.store.read(jobId, select);
      if (read === null) return null;
      if (read.job.state !== null) return { read, state: read.job.state };
      const bullmqState = await this.queue.getJobState(jobId);
      const resolved = resolveState(read.job, queueView(bullmqState), confirmed);
      if (resolved === 'read-again') {
        confirmed = true; // the end may have been written between the two reads: read the store again
        continue;
      }
      if ('state' in resolved) return { read, state: resolved.state };
      await this.settle(jobId, bullmqState, read.job.cancelRequested);
    }
    throw new Error(`job ${jobId}: its state could not be settled`);
  }

  /** One job of a tenant's, with all its data and messages. */
  async status(tenant: string, jobId: string): Promise<DataGenerationStatus> {
    const { read, state } = await this.owned(tenant, jobId, { items: { from: 0 }, messages: { after: 0 } });
    return this.statusOf(read.job, state, { messages: read.messages.map((m) => m.text), data: read.items });
  }

  /**
   * One job of a tenant's, with the parts `select` asks for: for a reader
   * that keeps what it read before (the API's status cache) and asks only
   * for the new inputs and messages. The status's arrays are left empty.
   */
  async read(tenant: string, jobId: string, select: ReadSelection): Promise<{ status: DataGenerationStatus; read: JobRead }> {
    const { read, state } = await this.owned(tenant, jobId, select);
    return { status: this.statusOf(read.job, state, { messages: [], data: null }), read };
  }

  /**
   * A page of a tenant's jobs, newest first across pages and newest last
   * within one; without their data, and with their last message only. Reads
   * just the page: an index per state (jobs/README in docs/architecture.md).
   */
  async list(tenant: string, query: ListQuery): Promise<JobPage> {
    const index: TenantIndex = query.state === undefined ? 'all' : isTerminal(query.state) ? query.state : 'open';
    const page = await this.store.page(tenant, index, query.limit, decodeCursor(query.cursor));
    const found = await Promise.all(page.entries.map((entry) => this.current(entry.jobId, { messages: { last: 1 } })));
    const jobs: DataGenerationStatus[] = [];
    for (const [i, view] of found.entries()) {
      // An open job whose record has expired (it never ran within the retention): forget it, and its inputs.
      if (view === null && index === 'open') await this.store.indexEnd(tenant, page.entries[i]!.jobId, null, page.entries[i]!.createdAt).catch(() => undefined);
      if (view === null || view.read.job.tenant !== tenant) continue;
      const { read, state } = view;
      // An ended job still in the open index: its finish's second step was lost (or is on its way). Put it right.
      if (index === 'open' && isTerminal(state)) await this.store.indexEnd(tenant, read.job.jobId, state, read.job.createdAt).catch(() => undefined);
      if (query.state !== undefined && state !== query.state) continue;
      jobs.push(this.statusOf(read.job, state, { messages: read.messages.map((m) => m.text), data: null }));
    }
    const last = page.entries[page.entries.length - 1];
    return { jobs: jobs.reverse(), next: page.more && last !== undefined ? encodeCursor(last) : null };
  }

  /** A page of a job's accepted inputs with their provenance, from `offset`; `next`: the offset of the next page, if any. */
  async items(tenant: string, jobId: string, page: { offset: number; limit: number }): Promise<{ items: ItemView[]; next: number | null; total: number }> {
    await this.owned(tenant, jobId, {});
    const { items, total } = await this.store.readItemPage(jobId, page.offset, page.limit);
    const last = items[items.length - 1];
    return { items: items.map(itemView), next: last !== undefined && last.index + 1 < total ? last.index + 1 : null, total };
  }

  /** A page of a job's rejected candidates, oldest kept first, from number `offset`; `total`: how many are kept. */
  async rejected(tenant: string, jobId: string, page: { offset: number; limit: number }): Promise<{ rejected: RejectedView[]; next: number | null; total: number }> {
    await this.owned(tenant, jobId, {});
    // One more than asked: whether another page follows.
    const { rejected, total } = await this.store.readRejectedPage(jobId, page.offset, page.limit + 1);
    const shown = rejected.slice(0, page.limit);
    const last = shown[shown.length - 1];
    return { rejected: shown, next: rejected.length > page.limit && last !== undefined ? last.index + 1 : null, total };
  }

  /**
   * Unfinished jobs by key, queued and running, for the keys asked about:
   * each key's open index, and BullMQ's active jobs (as many as the workers
   * run at once) read for their key. For /metrics.
   */
  async load(tenants: readonly string[]): Promise<Map<string, { queued: number; running: number }>> {
    const load = new Map(tenants.map((t) => [t, { queued: 0, running: 0 }]));
    const open = await Promise.all(tenants.map((t) => this.store.countOpen(t)));
    const active = await this.queue.getJobs(['active']);
    const owners = await Promise.all(active.map((job) => this.store.read(job.data.jobId).then((r) => r?.job.tenant)));
    for (const owner of owners) {
      const entry = owner === undefined ? undefined : load.get(owner);
      if (entry !== undefined) entry.running++;
    }
    tenants.forEach((t, i) => {
      const entry = load.get(t)!;
      entry.queued = Math.max(0, open[i]! - entry.running);
    });
    return load;
  }

  // ------------------------------------------------------------- datasets

  /** A tenant's datasets. */
  async datasets(tenant: string): Promise<DatasetView[]> {
    const names = await this.store.listDatasets(tenant);
    const infos = await Promise.all(names.map((name) => this.store.datasetInfo(tenant, name)));
    return infos.flatMap((info) => (info === null ? [] : [datasetView(info)]));
  }

  async dataset(tenant: string, name: string): Promise<DatasetView> {
    const info = await this.store.datasetInfo(tenant, name);
    if (info === null) throw new DatasetNotFoundError(name);
    return datasetView(info);
  }

  /** Up to `limit` of a dataset's inputs after the first `offset`, with the job that wrote each. */
  async datasetItems(tenant: string, name: string, offset: number, limit: number): Promise<Array<{ index: number; input: string; job_id: string }>> {
    const items = await this.store.readDatasetItems(tenant, name, offset, limit);
    return items.map((item) => ({ index: item.index, input: item.input, job_id: item.jobId }));
  }

  /** Deletes a dataset, unless a job of it is still queued or running (its jobs' own data stays). */
  async deleteDataset(tenant: string, name: string): Promise<void> {
    const info = await this.store.datasetInfo(tenant, name);
    if (info === null) throw new DatasetNotFoundError(name);
    const unfinished: string[] = [];
    for (const jobId of info.openJobs) {
      const job = await this.current(jobId);
      // A job whose end was not recorded here (a lost second step) is dropped from the set.
      if (job === null || isTerminal(job.state)) await this.store.markDatasetJob(tenant, name, jobId, false);
      else unfinished.push(jobId);
    }
    if (unfinished.length > 0) throw new DatasetBusyError(name, unfinished);
    await this.store.deleteDataset(tenant, name);
  }

  // --------------------------------------------------------------- submit

  /** Validated request in, queued job out; a repeated Idempotency-Key answers the job it created. */
  async submit(tenant: string, asked: JobRequest, idempotencyKey?: string): Promise<{ status: DataGenerationStatus; replayed: boolean }> {
    // Economy mode as asked, else the server's default; stored with the request, so the worker knows.
    const economy = asked.economy ?? this.options.economy?.byDefault ?? false;
    if (economy && this.options.economy?.available !== true) throw new EconomyUnavailableError(this.options.economy?.provider ?? 'unknown');
    const request: JobRequest = { ...asked, economy };
    const jobId = randomUUID().replaceAll('-', '');
    if (idempotencyKey !== undefined) {
      const requestHash = sha256(JSON.stringify(asked));
      const earlier = await this.store.claimIdempotencyKey(tenant, idempotencyKey, { jobId, requestHash });
      if (earlier !== null) {
        if (earlier.requestHash !== requestHash) throw new IdempotencyConflictError();
        return { status: await this.earlierJob(tenant, earlier.jobId), replayed: true };
      }
    }
    const createdAt = Date.now();
    const n = request.num_inputs_to_generate;
    let rank: number;
    try {
      // Record, admission (quotas and indexes), then queue: a job is never queued without its
      // record, and one that is listed before it is queued reads QUEUED (jobs/state.ts).
      await this.store.create({ jobId, tenant, request, createdAt, message: QUEUED_MESSAGE });
      const admitted = await this.store.admit(tenant, { jobId, createdAt, n }, this.options.quotaOf?.(tenant) ?? NO_QUOTA);
      if (admitted.kind !== 'admitted') throw quotaError(admitted, this.options.quotaOf?.(tenant) ?? NO_QUOTA, n);
      rank = admitted.rank;
      // Before it is queued: a dataset is never deleted under a job of it.
      if (request.dataset !== undefined) await this.store.markDatasetJob(tenant, request.dataset, jobId, true);
      // Keys take turns: a job's priority is its rank among its key's unfinished jobs (1 first).
      const priority = this.options.scheduling === 'fifo' ? undefined : Math.min(rank, MAX_PRIORITY);
      await this.queue.add('generate', { jobId, n: request.num_inputs_to_generate, mode: request.exploration_mode }, { ...jobOptions(jobId, this.options.retentionHours), ...(priority !== undefined && { priority }) });
    } catch (error) {
      await this.store.discard(jobId, tenant).catch(() => undefined);
      if (request.dataset !== undefined) await this.store.markDatasetJob(tenant, request.dataset, jobId, false).catch(() => undefined);
      if (idempotencyKey !== undefined) await this.store.releaseIdempotencyKey(tenant, idempotencyKey).catch(() => undefined);
      throw error;
    }
    const messages = [QUEUED_MESSAGE];
    if (rank > 1 && this.options.scheduling !== 'fifo') {
      messages.push(waitingTurnMessage(rank));
      await this.store.addMessage(jobId, null, messages[1]!).catch(() => undefined); // an ended job (cancelled already) takes none
    }
    // Answered from what was just stored: QUEUED as of this request, even if a worker has taken it since.
    const job = {
      jobId,
      tenant,
      target: request.num_inputs_to_generate,
      createdAt,
      state: null,
      finishedAt: null,
      cancelRequested: false,
      usage: { inputTokens: 0, outputTokens: 0, calls: 0 },
      counts: { candidates: 0, exactDuplicates: 0, nearDuplicates: 0, filtered: 0, unusableAnswers: 0, bad: 0 },
      report: null,
      itemCount: 0,
    };
    return { status: this.statusOf(job, 'QUEUED', { messages, data: [] }), replayed: false };
  }

  /** The job an earlier request with the same Idempotency-Key created; it may still be being created. */
  private async earlierJob(tenant: string, jobId: string): Promise<DataGenerationStatus> {
    for (let wait = 0; wait < 20; wait++) {
      try {
        return await this.status(tenant, jobId);
      } catch (error) {
        if (!(error instanceof JobNotFoundError)) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new IdempotencyPendingError();
  }

  // --------------------------------------------------------------- cancel

  /**
   * Cancels a queued or running job. A queued job is taken out of the queue
   * and ended here ('cancelled'); a running one is stopped by its worker,
   * which the flag and a pub/sub message reach ('cancelling'). Throws
   * JobEndedError when the job has already ended, by the same rule as reads.
   */
  async cancel(tenant: string, jobId: string): Promise<'cancelled' | 'cancelling'> {
    const { state } = await this.owned(tenant, jobId, {});
    if (isTerminal(state)) throw new JobEndedError(jobId, state);
    const flagged = await this.store.requestCancel(jobId);
    if (flagged.kind === 'ended') throw new JobEndedError(jobId, flagged.state);
    if (flagged.kind === 'missing') throw new JobNotFoundError(jobId);
    // Only a job still queued is removed: one a worker holds is locked, and
    // one that has just ended (its worker saw the flag first) stays as it is.
    const job = await this.queue.getJob(jobId);
    const queued = job !== undefined && queueView(await job.getState()) === 'QUEUED';
    const removed = queued && (await job.remove().then(() => true, () => false));
    if (!removed && job !== undefined) return 'cancelling';
    const ended = await this.endCancelled(jobId, null);
    if (ended !== 'CANCELLED' && ended !== null) throw new JobEndedError(jobId, ended);
    return 'cancelled';
  }

  // --------------------------------------------------------------- follow

  /**
   * Follows a job's inputs ('data') or progress messages ('messages') from
   * the start, as they are stored, until it ends. The events are pulled: a
   * reader that stops reading stops the Redis reads too, and holds at most
   * FOLLOW_READ_COUNT entries. Throws JobNotFoundError before anything is sent.
   */
  async follow(tenant: string, jobId: string, what: 'data' | 'messages'): Promise<JobFollow> {
    const { state } = await this.owned(tenant, jobId, {});
    const follower = this.store.follower(FOLLOW_BLOCK_MS);
    this.followers.add(follower);
    let closed = false;
    const close = () => {
      closed = true;
      follower.close();
      this.followers.delete(follower);
    };
    const events = this.followEvents(jobId, what, follower, () => closed);
    return {
      state,
      events: (async function* () {
        try {
          yield* events;
        } finally {
          close();
        }
      })(),
      close,
    };
  }

  private async *followEvents(jobId: string, what: 'data' | 'messages', follower: JobFollower, closed: () => boolean): AsyncGenerator<FollowEvent> {
    let position = FOLLOW_START;
    let end: TerminalState | null = null;
    const withItems = what === 'data';
    while (!closed()) {
      const step = await follower.read(jobId, position, { blockMs: end === null ? FOLLOW_BLOCK_MS : 0, count: FOLLOW_READ_COUNT, withItems });
      const moved = step.position.items !== position.items || step.position.messages !== position.messages;
      position = step.position;
      if (withItems && step.items.length > 0) yield { kind: 'items', texts: step.items };
      if (!withItems && step.messages.length > 0) yield { kind: 'messages', texts: step.messages };
      end ??= step.end;
      if (end !== null) {
        // The end marker is written after the last input: read on until no more come.
        if (!withItems || step.items.length < FOLLOW_READ_COUNT) {
          yield { kind: 'end', state: end };
          return;
        }
        continue;
      }
      if (!moved) {
        // Nothing for a while: a job can end without writing the marker itself
        // (it failed outside the engine, or its records expired). Settling it writes the marker.
        const now = await this.current(jobId);
        if (now === null) {
          yield { kind: 'end', state: 'ERROR' };
          return;
        }
      }
    }
  }

  /** Ends the open follows (the API is shutting down); their clients reconnect elsewhere. */
  closeFollows(): void {
    for (const follower of this.followers) follower.close();
    this.followers.clear();
  }

  // ---------------------------------------------------------- worker side

  /**
   * A worker takes a job (`owner`: its BullMQ lock token). Answers the run,
   * or that there is nothing to run: the job has ended (or is gone), or its
   * cancel came before it started, and it is ended here.
   */
  async startRun(jobId: string, owner: string, stalls?: StallCount): Promise<RunStart> {
    const claim = await this.store.claim(jobId, owner, stalls);
    if (claim.kind === 'missing') return { kind: 'over', state: null };
    if (claim.kind === 'ended') return { kind: 'over', state: claim.state };
    if (claim.kind === 'stalledOut') return { kind: 'over', state: await this.failOutsideEngine(jobId, stalledOutMessage(claim.stalls)) };
    if (claim.cancelRequested) return { kind: 'over', state: await this.endCancelled(jobId, owner) };
    const record = await this.store.readRecord(jobId);
    if (record === null) return { kind: 'over', state: null };
    const items = await this.store.readItems(jobId);
    const name = record.request.dataset;
    if (name === undefined) return { kind: 'run', run: new JobRun(this, this.store, record, items, owner), taken: [] };
    const { taken, seen } = await this.datasetForRun(record, items, owner);
    const run = new JobRun(this, this.store, record, items, owner, { name, maxItems: this.options.datasetMaxItems ?? 0, seen });
    return { kind: 'run', run, taken };
  }

  /**
   * A dataset job's start: the inputs other jobs wrote to its dataset (taken),
   * and the job's own inputs the dataset holds but its data does not (a run
   * that died between the dataset's write and the job's), written to the job
   * now. The dataset is read whole: its size is bounded by DATASET_MAX_ITEMS.
   */
  private async datasetForRun(record: JobRecord, items: string[], owner: string): Promise<{ taken: Array<{ index: number; input: string }>; seen: number }> {
    const name = record.request.dataset!;
    const taken: Array<{ index: number; input: string }> = [];
    const mine: string[] = [];
    let seen = 0;
    for (;;) {
      const page = await this.store.readDatasetItems(record.tenant, name, seen, 5_000);
      for (const item of page) {
        if (item.jobId === record.jobId) mine.push(item.input);
        else taken.push({ index: item.index, input: item.input });
      }
      if (page.length > 0) seen = page[page.length - 1]!.index + 1;
      if (page.length < 5_000) break;
    }
    if (mine.length > items.length) {
      const missing = mine.slice(items.length);
      await this.store.appendBatch(record.jobId, owner, items.length, {
        accepted: missing,
        usage: { inputTokens: 0, outputTokens: 0, calls: 0 },
        message: `Restored ${missing.length} input${missing.length === 1 ? '' : 's'} the job had added to dataset ${name} before its worker stopped.`,
      });
      items.push(...missing);
    }
    return { taken, seen };
  }

  /**
   * Ends a job, once, whoever asks (a run, the API, a settlement): the one
   * path to the store's finish. A job whose cancel was accepted ends
   * CANCELLED whatever was asked. Answers the state the job ended in (now
   * or before), or null when it is gone. Throws JobOwnershipLostError when
   * another run owns the job, IncompleteJobError for DONE short of N.
   */
  async end(
    job: Pick<JobRecord, 'jobId' | 'target'>,
    owner: string | null,
    end: { state: TerminalState; message: string; report: JobReport | null },
    storedItems?: readonly string[],
  ): Promise<TerminalState | null> {
    const outcome = await this.store.finish(job.jobId, { ...end, owner });
    switch (outcome.kind) {
      case 'finished':
        this.options.onEnded?.(outcome.state);
        // The tenant's indexes are in another slot: a second step (a lost one is put right by the lists).
        await this.store.indexEnd(outcome.tenant, job.jobId, outcome.state, outcome.createdAt).catch(() => undefined);
        if (outcome.dataset !== null) await this.store.markDatasetJob(outcome.tenant, outcome.dataset, job.jobId, false).catch(() => undefined);
        await Promise.resolve(outcome.state).then((state) => this.options.onJobEnded?.(job.jobId, state)).catch(() => undefined);
        return outcome.state;
      case 'already_ended':
        return outcome.state;
      case 'missing':
        return null;
      case 'not_owner':
        throw new JobOwnershipLostError(`job ${job.jobId} was claimed by another run`, 'conflict');
      case 'incomplete':
        throw new IncompleteJobError(job.jobId, outcome.stored, job.target);
      case 'cancel_requested':
        return this.endCancelled(job.jobId, owner, storedItems);
    }
  }

  /** Ends a job CANCELLED, saying what it kept, with the report of what it kept. */
  async endCancelled(jobId: string, owner: string | null, storedItems?: readonly string[]): Promise<TerminalState | null> {
    const record = await this.store.read(jobId);
    if (record === null) return null;
    if (record.job.state !== null) return record.job.state;
    const items = storedItems ?? (record.job.itemCount > 0 ? await this.store.readItems(jobId) : []);
    await this.cancelProviderBatch(jobId);
    return this.end(record.job, owner, {
      state: 'CANCELLED',
      message: cancelledMessage(items.length, record.job.target),
      report: await this.measureReport(items),
    });
  }

  /** A job BullMQ failed for good (its attempts used up, or too many dead workers): it ends ERROR, keeping its data. */
  async failOutsideEngine(jobId: string, message: string): Promise<TerminalState | null> {
    const record = await this.store.read(jobId);
    if (record === null || record.job.state !== null) return record?.job.state ?? null;
    const items = record.job.itemCount > 0 ? await this.store.readItems(jobId) : [];
    return this.end(record.job, null, { state: 'ERROR', message, report: await this.measureReport(items) });
  }

  // -------------------------------------------------------------- helpers

  /** A job as the API answers it, priced at the configured model's price. */
  private statusOf(job: JobSummary, state: JobState, parts: { messages: string[]; data: string[] | null }): DataGenerationStatus {
    return buildStatus(job, state, parts, this.options.price, this.options.model ?? null);
  }

  /**
   * An economy job cancelled between two polls (delayed in the queue, or
   * claimed after its cancel): its provider batch is cancelled too, best
   * effort (the provider ends it by itself within 24 hours otherwise).
   */
  private async cancelProviderBatch(jobId: string): Promise<void> {
    const cancelBatch = this.options.economy?.cancelBatch;
    if (cancelBatch === undefined) return;
    const record = await this.store.readRecord(jobId).catch(() => null);
    const batchId = record?.economy?.current?.batchId;
    if (batchId == null) return;
    const said = await cancelBatch(batchId).then(
      () => `Round ${record!.economy!.round}: provider batch ${batchId} cancelled.`,
      (error: unknown) => `Round ${record!.economy!.round}: provider batch ${batchId} could not be cancelled (${error instanceof Error ? error.message : String(error)}).`,
    );
    await this.store.addMessage(jobId, null, said).catch(() => undefined);
  }

  /** The job, if it is this tenant's: another tenant's job is not found, as if it did not exist. */
  private async owned(tenant: string, jobId: string, select: ReadSelection): Promise<{ read: JobRead; state: JobState }> {
    const found = await this.current(jobId, select);
    if (found === null || found.read.job.tenant !== tenant) throw new JobNotFoundError(jobId);
    return found;
  }

  /**
   * Lists jobs an earlier version stored under their state too (it kept one
   * index per key, not one per state): once per Redis, at an API's start.
   * Answers how many it indexed, null when that was done before.
   */
  indexEarlierJobs(): Promise<number | null> {
    return this.store.indexEarlierJobs();
  }

  /** Writes the end of a job BullMQ no longer holds and the store has no end for (jobs/state.ts). */
  private async settle(jobId: string, bullmqState: string, cancelRequested: boolean): Promise<void> {
    const job = bullmqState === 'failed' ? await this.queue.getJob(jobId) : undefined;
    const end = settlement(bullmqState, job?.failedReason, cancelRequested);
    if (end.state === 'CANCELLED') await this.endCancelled(jobId, null);
    else await this.failOutsideEngine(jobId, end.message);
  }
}

/** A list cursor: where the previous page stopped, opaque to clients. */
function encodeCursor(entry: IndexEntry): string {
  return Buffer.from(`${entry.createdAt}:${entry.jobId}`).toString('base64url');
}

function decodeCursor(cursor: string | undefined): IndexEntry | null {
  if (cursor === undefined || cursor === '') return null;
  const match = /^(\d{1,16}):([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (match === null) throw new InvalidCursorError();
  return { createdAt: Number(match[1]), jobId: match[2]! };
}

/** An input as the items endpoint shows it: its provenance flattened beside it. */
function itemView(item: StoredItem): ItemView {
  const p = item.provenance;
  return {
    index: item.index,
    input: item.input,
    batch: p?.batch ?? null,
    theme: p?.theme ?? null,
    examples: p?.examples ?? [],
    model: p?.model ?? null,
    temperature: p?.temperature ?? null,
    critic: p?.critic ?? null,
    nearest: p?.nearest ?? null,
    accepted_at: p?.accepted_at ?? null,
  };
}

/** No limits: what a job service without quotas admits. */
export const NO_QUOTA: Quota = { maxOpenJobs: 0, maxOpenInputs: 0, submitsPerMinute: 0 };

/** BullMQ's highest priority number (the lowest priority). */
const MAX_PRIORITY = 2_097_152;

/** How long a client refused for too many unfinished jobs (or inputs) is told to wait: about a job slot's turn. */
const RETRY_OPEN_MS = 10_000;

function quotaError(outcome: Exclude<AdmitOutcome, { kind: 'admitted' }>, quota: Quota, n: number): QuotaExceededError {
  switch (outcome.kind) {
    case 'over_open':
      return new QuotaExceededError(
        'open_jobs',
        `This API key has ${outcome.open} unfinished jobs, its quota (${quota.maxOpenJobs} at once); submit again when one ends.`,
        RETRY_OPEN_MS,
      );
    case 'over_inputs':
      return new QuotaExceededError(
        'open_inputs',
        `This API key's unfinished jobs ask for ${outcome.inputs} inputs; ${n} more would pass its quota of ${quota.maxOpenInputs}. Submit again when one ends, or ask for fewer.`,
        RETRY_OPEN_MS,
      );
    case 'over_rate':
      return new QuotaExceededError(
        'submit_rate',
        `This API key submits faster than its quota of ${quota.submitsPerMinute} jobs a minute; retry in ${Math.ceil(outcome.waitMs / 1000)} s.`,
        outcome.waitMs,
      );
  }
}

function datasetView(info: DatasetInfo): DatasetView {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return { name: info.name, items: info.count, jobs: info.jobs, unfinished_jobs: info.openJobs.length, created_at: iso(info.createdAt), updated_at: iso(info.updatedAt) };
}
