import { randomUUID } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import {
  jobOptions,
  listQuerySchema,
  NO_COUNTS,
  sha256,
  stateFromQueue,
  startJobSchema,
  TERMINAL_STATES,
  type DataGenerationStatus,
} from '@datagen/core';
import type { ApiContext } from './context';
import { HttpError, notFound, validationError, withTimeout } from './errors';
import { buildStatus, configuredPrice, readStatus, readStatusBody, StatusCache } from './status';
import { streamData, streamMessages } from './streams';

/** The "data generate" routes; mounted under both `/` and `/v1`. */
export function dataGenerateRouter(ctx: ApiContext): Router {
  const router = Router();
  const { store, queue, config } = ctx;
  const requestSchema = startJobSchema(config.job.maxInputs);
  const price = configuredPrice(config);
  /** Each job's inputs and messages already read, as JSON: a status read fetches only the newer ones. */
  const statusCache = new StatusCache();
  const timeout = <T>(p: Promise<T>) => withTimeout(p, ctx.redisTimeoutMs);

  router.post('/data/generate', async (req, res) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw new HttpError(422, [{ loc: ['body'], msg: 'Request body must be a JSON object', type: 'model_attributes_type' }]);
    }
    const parsed = requestSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'body', req.body);
    const tenant = tenant_(res);
    const jobId = randomUUID().replaceAll('-', '');

    // A retried request with the same Idempotency-Key gets the job the first one created.
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined) {
      if (idempotencyKey.length === 0 || idempotencyKey.length > 255) {
        throw new HttpError(422, [{ loc: ['header', 'idempotency-key'], msg: 'must be 1 to 255 characters', type: 'string_too_long' }]);
      }
      const requestHash = sha256(JSON.stringify(parsed.data));
      const earlier = await timeout(store.claimIdempotencyKey(tenant, idempotencyKey, { jobId, requestHash }));
      if (earlier !== null) {
        if (earlier.requestHash !== requestHash) {
          throw new HttpError(409, 'This Idempotency-Key was already used with a different request; use a new key for a new job.');
        }
        res.setHeader('Idempotent-Replayed', 'true');
        res.json(await timeout(earlierJob(res, earlier.jobId)));
        return;
      }
    }

    const queuedMessage = 'Queued: waiting for a worker.';
    let createdAt: number;
    try {
      createdAt = await timeout(store.create(jobId, tenant, parsed.data, queuedMessage));
      await timeout(queue.add('generate', { jobId }, jobOptions(jobId, config.job.retentionHours)));
    } catch (error) {
      await store.discard(jobId, tenant).catch(() => undefined);
      if (idempotencyKey !== undefined) await store.releaseIdempotencyKey(tenant, idempotencyKey).catch(() => undefined);
      throw error;
    }
    ctx.logger.info({ jobId, n: parsed.data.num_inputs_to_generate, mode: parsed.data.exploration_mode }, 'job queued');
    ctx.metrics.jobsSubmitted.inc();
    // Answered from what was just stored: the job is QUEUED as of this request,
    // even if a worker has already taken it by the time the answer is sent.
    const queued = buildStatus(
      {
        jobId,
        tenant,
        request: parsed.data,
        createdAt,
        state: null,
        cancelRequested: false,
        generatedSeeds: null,
        themes: null,
        usage: { inputTokens: 0, outputTokens: 0, calls: 0 },
        counts: NO_COUNTS,
        report: null,
      },
      'QUEUED',
      [queuedMessage],
      [],
      true,
      price,
    );
    res.json(queued);
  });

  router.get('/data/generate', async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query', req.query);
    const tenant = tenant_(res);
    const ids = await timeout(store.tenantJobIds(tenant));
    // Lists leave out the data itself (it can be large): fetch one job for it.
    const statuses = await timeout(Promise.all(ids.map((id) => readStatus(store, queue, id, tenant, false, price))));
    res.json(statuses.filter((s): s is DataGenerationStatus => s !== null && (query.data.state === undefined || s.state === query.data.state)));
  });

  router.get('/data/generate/:jobId', async (req, res) => {
    const jobId = req.params.jobId!;
    const found = await timeout(readStatusBody(store, queue, jobId, tenant_(res), price, statusCache));
    if (found === null) throw notFound(`Job ${jobId} not found`);
    // The bytes and headers res.json would send (ETag and 304, HEAD), but written in pieces: the
    // cached megabytes of a large job are neither hashed nor copied for each read.
    res.set({ 'Content-Type': 'application/json; charset=utf-8', ETag: found.etag });
    if (req.fresh) {
      res.removeHeader('Content-Type');
      res.status(304).end();
      return;
    }
    res.setHeader('Content-Length', found.length);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    res.cork();
    for (const chunk of found.chunks) res.write(chunk);
    res.end();
  });

  router.delete('/data/generate/:jobId', async (req, res) => {
    const jobId = req.params.jobId!;
    const current = await timeout(status(req, res, jobId));
    if (TERMINAL_STATES.has(current.state)) {
      throw new HttpError(409, `Job ${jobId} has already ended (${current.state}); nothing to cancel.`);
    }
    await timeout(store.requestCancel(jobId));
    // A job still waiting in the queue is taken out and ends here; a running
    // job is stopped by its worker, which the cancel flag and message reach.
    // Only a job still queued is removed: one a worker holds is locked, and
    // one that has just ended (the worker saw the flag first) stays as it is.
    const job = await timeout(queue.getJob(jobId));
    const queued = job !== undefined && stateFromQueue(await timeout(job.getState())) === 'QUEUED';
    const removed = queued && (await job.remove().then(() => true, () => false));
    if (removed || job === undefined) {
      await timeout(store.finish(jobId, 'CANCELLED', 'Cancelled before it started; no inputs were generated.'));
      res.json(`Job ${jobId} cancelled.`);
      return;
    }
    res.json(`Job ${jobId} is being cancelled; it keeps the inputs generated so far.`);
  });

  router.get('/data/generate/:jobId/data', async (req, res) => {
    await timeout(status(req, res, req.params.jobId!)); // 404 unless it is this tenant's job
    await streamData(ctx, req, res, req.params.jobId!);
  });

  router.get('/data/generate/:jobId/messages', async (req, res) => {
    const current = await timeout(status(req, res, req.params.jobId!));
    await streamMessages(ctx, req, res, req.params.jobId!, current.state);
  });

  /** The job an earlier request with the same Idempotency-Key created; it may still be being created. */
  async function earlierJob(res: Response, jobId: string): Promise<DataGenerationStatus> {
    for (let wait = 0; wait < 20; wait++) {
      const found = await readStatus(store, queue, jobId, tenant_(res), true, price);
      if (found !== null) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new HttpError(409, 'A request with this Idempotency-Key is still being processed; retry shortly.');
  }

  /** The job's status, without its data (the routes that use this need only the state). */
  async function status(_req: Request, res: Response, jobId: string): Promise<DataGenerationStatus> {
    const found = await readStatus(store, queue, jobId, tenant_(res), false, price);
    if (found === null) throw notFound(`Job ${jobId} not found`);
    return found;
  }

  return router;
}

function tenant_(res: Response): string {
  return res.locals.tenant as string;
}
