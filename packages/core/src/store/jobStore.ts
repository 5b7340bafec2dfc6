import type { JobRequest } from '../contract';
import type { TerminalState } from '../model/job';
import type { RedisClient } from '../redis/connection';
import { addMessage } from './addMessage';
import { appendDataset } from './appendDataset';
import { datasetInfo } from './datasetInfo';
import { deleteDataset } from './deleteDataset';
import { listDatasets } from './listDatasets';
import { markDatasetJob } from './markDatasetJob';
import { readDatasetItems } from './readDatasetItems';
import { readDatasetJobCount } from './readDatasetJobCount';
import { releaseDatasetTurn } from './releaseDatasetTurn';
import { takeDatasetTurn } from './takeDatasetTurn';
import { appendBatch, type BatchWrite } from './appendBatch';
import { claimJob, type StallCount } from './claimJob';
import { countOpen } from './countOpen';
import { createJob } from './createJob';
import { discardJob } from './discardJob';
import { finishJob, type FinishWrite } from './finishJob';
import { JobFollower } from './followJob';
import { claimIdempotencyKey, releaseIdempotencyKey, type IdempotencyClaim } from './idempotency';
import { indexEnd } from './indexEnd';
import { indexEarlierJobs } from './indexEarlierJobs';
import { admitJob, type Quota } from './admitJob';
import { pageTenantJobs, type IndexEntry, type TenantIndex } from './pageTenantJobs';
import { readItemPage } from './readItemPage';
import { readRejectedPage } from './readRejectedPage';
import { readItems } from './readItems';
import { readJob, type ReadSelection } from './readJob';
import { readRecord } from './readRecord';
import { requestCancel } from './requestCancel';
import { saveNotes, type RunNotes } from './saveNotes';
import { saveEconomy } from './saveEconomy';
import type { EconomyState } from '../model/economy';
import type { StoreContext } from './status';

/**
 * The Redis job store: everything about a job that is ours rather than
 * BullMQ's. Each method is one operation, in a file of its own (the
 * writes that must happen together are Lua scripts in `store/lua`, over one
 * job's keys, so they run on a Redis Cluster too). It hands out records and
 * inputs, never Redis stream ids. The job service (`jobs/`) is its one user.
 */
export class JobStore {
  readonly ctx: StoreContext;

  constructor(redis: RedisClient, prefix: string, retentionHours: number) {
    this.ctx = { redis, prefix, retentionMs: Math.round(retentionHours * 3_600_000) };
  }

  get redis(): RedisClient {
    return this.ctx.redis;
  }

  create(job: { jobId: string; tenant: string; request: JobRequest; createdAt: number; message: string }) {
    return createJob(this.ctx, job);
  }
  admit(tenant: string, job: { jobId: string; createdAt: number; n: number }, quota: Quota) {
    return admitJob(this.ctx, tenant, job, quota);
  }
  /** A tenant's unfinished jobs (its open index). */
  countOpen(tenant: string): Promise<number> {
    return countOpen(this.ctx, tenant);
  }
  indexEarlierJobs() {
    return indexEarlierJobs(this.ctx);
  }

  indexEnd(tenant: string, jobId: string, state: TerminalState | null, createdAt: number) {
    return indexEnd(this.ctx, tenant, jobId, state, createdAt);
  }
  discard(jobId: string, tenant: string) {
    return discardJob(this.ctx, jobId, tenant);
  }
  claimIdempotencyKey(tenant: string, key: string, claim: IdempotencyClaim) {
    return claimIdempotencyKey(this.ctx, tenant, key, claim);
  }
  releaseIdempotencyKey(tenant: string, key: string) {
    return releaseIdempotencyKey(this.ctx, tenant, key);
  }
  read(jobId: string, select?: ReadSelection) {
    return readJob(this.ctx, jobId, select);
  }
  readRecord(jobId: string) {
    return readRecord(this.ctx, jobId);
  }
  readItems(jobId: string) {
    return readItems(this.ctx, jobId);
  }
  readItemPage(jobId: string, offset: number, limit: number) {
    return readItemPage(this.ctx, jobId, offset, limit);
  }
  readRejectedPage(jobId: string, offset: number, limit: number) {
    return readRejectedPage(this.ctx, jobId, offset, limit);
  }
  page(tenant: string, index: TenantIndex, limit: number, after: IndexEntry | null) {
    return pageTenantJobs(this.ctx, tenant, index, limit, after);
  }
  claim(jobId: string, owner: string, stalls: StallCount = { stalls: 0, maxWithoutProgress: Number.MAX_SAFE_INTEGER }) {
    return claimJob(this.ctx, jobId, owner, stalls);
  }
  appendBatch(jobId: string, owner: string, at: number, batch: BatchWrite) {
    return appendBatch(this.ctx, jobId, owner, at, batch);
  }
  addMessage(jobId: string, owner: string | null, text: string) {
    return addMessage(this.ctx, jobId, owner, text);
  }
  saveNotes(jobId: string, owner: string, notes: RunNotes) {
    return saveNotes(this.ctx, jobId, owner, notes);
  }

  saveEconomy(jobId: string, owner: string, state: EconomyState, message: string | null) {
    return saveEconomy(this.ctx, jobId, owner, state, message);
  }
  finish(jobId: string, end: FinishWrite) {
    return finishJob(this.ctx, jobId, end);
  }
  requestCancel(jobId: string) {
    return requestCancel(this.ctx, jobId);
  }
  // Datasets: a tenant's named sets of inputs across jobs.
  takeDatasetTurn(tenant: string, name: string, token: string, ttlMs: number) {
    return takeDatasetTurn(this.ctx, tenant, name, token, ttlMs);
  }
  releaseDatasetTurn(tenant: string, name: string, token: string) {
    return releaseDatasetTurn(this.ctx, tenant, name, token);
  }
  appendDataset(tenant: string, name: string, write: { token: string; jobId: string; at: number; max: number; inputs: string[] }) {
    return appendDataset(this.ctx, tenant, name, write);
  }
  readDatasetItems(tenant: string, name: string, after: number, count: number) {
    return readDatasetItems(this.ctx, tenant, name, after, count);
  }
  readDatasetJobCount(tenant: string, name: string, jobId: string) {
    return readDatasetJobCount(this.ctx, tenant, name, jobId);
  }
  datasetInfo(tenant: string, name: string) {
    return datasetInfo(this.ctx, tenant, name);
  }
  markDatasetJob(tenant: string, name: string, jobId: string, open: boolean) {
    return markDatasetJob(this.ctx, tenant, name, jobId, open);
  }
  listDatasets(tenant: string) {
    return listDatasets(this.ctx, tenant);
  }
  deleteDataset(tenant: string, name: string) {
    return deleteDataset(this.ctx, tenant, name);
  }
  follower(maxBlockMs: number): JobFollower {
    return new JobFollower(this.ctx, maxBlockMs);
  }
}
