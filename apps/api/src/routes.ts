import { Router, type Request, type Response } from 'express';
import { listQuerySchema, pageQuerySchema, startJobSchema, webhookRequestProblem } from '@datagen/core';
import type { ApiContext } from './context';
import { HttpError, validationError, withTimeout } from './errors';
import { readStatusBody, StatusCache } from './statusBody';
import { writeFollow, writeJsonLines } from './streams';

/**
 * The "data generate" routes; mounted under both `/` and `/v1`. Each parses
 * the request, calls the job service, and writes its answer; the service's
 * typed errors become HTTP answers in errors.ts.
 */
export function dataGenerateRouter(ctx: ApiContext): Router {
  const router = Router();
  const { jobs, config } = ctx;
  const requestSchema = startJobSchema(config.job.maxInputs);
  /** Each job's inputs and messages already read, as JSON: a status read fetches only the newer ones. */
  const statusCache = new StatusCache();
  const timeout = <T>(p: Promise<T>) => withTimeout(p, ctx.redisTimeoutMs);

  router.post('/data/generate', async (req, res) => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) {
      throw new HttpError(422, [{ loc: ['body'], msg: 'Request body must be a JSON object', type: 'model_attributes_type' }]);
    }
    const parsed = requestSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'body', req.body);
    const webhookProblem = webhookRequestProblem(parsed.data, config.webhooks);
    if (webhookProblem !== null) throw new HttpError(422, [{ loc: ['body', 'webhook_url'], msg: webhookProblem, type: 'value_error' }]);
    const idempotencyKey = req.header('idempotency-key');
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw new HttpError(422, [{ loc: ['header', 'idempotency-key'], msg: 'must be 1 to 255 characters', type: 'string_too_long' }]);
    }
    const { status, replayed } = await timeout(jobs.submit(tenantOf(res), parsed.data, idempotencyKey));
    if (replayed) res.setHeader('Idempotent-Replayed', 'true');
    else {
      ctx.logger.info({ jobId: status.job_id, n: parsed.data.num_inputs_to_generate, mode: parsed.data.exploration_mode }, 'job queued');
      ctx.metrics.jobsSubmitted.inc();
    }
    res.json(status);
  });

  router.get('/data/generate', async (req, res) => {
    const query = listQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query', req.query);
    const page = await timeout(jobs.list(tenantOf(res), query.data));
    if (page.next !== null) res.setHeader('Link', `<${pageUrl(req, 'cursor', page.next)}>; rel="next"`);
    res.json(page.jobs);
  });

  router.get('/data/generate/:jobId', async (req, res) => {
    const found = await timeout(readStatusBody(jobs, tenantOf(res), req.params.jobId!, statusCache));
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
    const outcome = await timeout(jobs.cancel(tenantOf(res), jobId));
    res.json(outcome === 'cancelled' ? `Job ${jobId} cancelled.` : `Job ${jobId} is being cancelled; it keeps the inputs generated so far.`);
  });

  router.get('/data/generate/:jobId/data', (req, res) => follow(req, res, 'data'));
  router.get('/data/generate/:jobId/messages', (req, res) => follow(req, res, 'messages'));

  router.get('/data/generate/:jobId/items', (req, res) => pages(req, res, 'items'));
  router.get('/data/generate/:jobId/rejected', (req, res) => pages(req, res, 'rejected'));

  /** A job's inputs with their provenance, or its rejected candidates: a page (JSON), or all from `offset` (JSON lines). */
  async function pages(req: Request, res: Response, what: 'items' | 'rejected'): Promise<void> {
    const query = pageQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query', req.query);
    const tenant = tenantOf(res);
    const jobId = String(req.params.jobId);
    const read = async (offset: number, limit: number): Promise<{ entries: object[]; next: number | null }> => {
      if (what === 'items') {
        const page = await timeout(jobs.items(tenant, jobId, { offset, limit }));
        return { entries: page.items, next: page.next };
      }
      const page = await timeout(jobs.rejected(tenant, jobId, { offset, limit }));
      return { entries: page.rejected, next: page.next };
    };
    const { offset, limit, format } = query.data;
    const first = await read(offset, limit); // 404 before anything is sent
    if (format === 'json') {
      if (first.next !== null) res.setHeader('Link', `<${pageUrl(req, 'offset', String(first.next))}>; rel="next"`);
      res.json(first.entries);
      return;
    }
    await writeJsonLines(res, first, (next) => read(next, limit));
  }

  async function follow(req: Request, res: Response, what: 'data' | 'messages'): Promise<void> {
    const opened = await timeout(jobs.follow(tenantOf(res), String(req.params.jobId), what)); // 404 before anything is sent
    await writeFollow(req, res, opened, what);
  }

  return router;
}

function tenantOf(res: Response): string {
  return res.locals.tenant as string;
}

/** The same request, one page on: its path and query, with `param` (the cursor or offset) set to the next page's. */
function pageUrl(req: Request, param: string, value: string): string {
  const url = new URL(req.originalUrl, 'http://host');
  url.searchParams.set(param, value);
  return `${url.pathname}${url.search}`;
}
