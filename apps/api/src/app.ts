import express, { type Express, type Request, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { keyLabel } from '@datagen/core';
import { basicAuth, requireApiKey, tenantOf } from './auth';
import { webhookBoardAdapter } from './board';
import type { ApiContext } from './context';
import { serveConsole } from './console';
import { clientErrorStatus, errorHandler, HttpError, ServiceUnavailableError, unknownRoute, withTimeout } from './errors';
import { serveOpenApi } from './openapi';
import { datasetsRouter } from './datasets';
import { dataGenerateRouter } from './routes';

export function createApp(ctx: ApiContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLogger(ctx));
  app.set('query parser', 'simple');

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Prometheus: this process's metrics, then BullMQ's own queue metrics.
  const tenants = [...new Set(ctx.config.apiKeys.map(tenantOf))];
  app.get('/metrics', async (_req, res) => {
    // Each key's unfinished jobs, queued and running, as of this scrape (a key is labelled by a hash).
    const load = await withTimeout(ctx.jobs.load(tenants), ctx.redisTimeoutMs).catch(() => null);
    for (const [tenant, { queued, running }] of load ?? []) {
      ctx.metrics.keyJobs.set({ key: keyLabel(tenant), state: 'queued' }, queued);
      ctx.metrics.keyJobs.set({ key: keyLabel(tenant), state: 'running' }, running);
    }
    const queueMetrics = await withTimeout(ctx.queue.exportPrometheusMetrics(), ctx.redisTimeoutMs).catch(() => '');
    res.type(ctx.metrics.registry.contentType).send(`${await ctx.metrics.registry.metrics()}\n${queueMetrics}`);
  });
  app.get('/readyz', async (_req, res) => {
    const ready = ctx.redis.status === 'ready' && (await ctx.redis.ping().then(() => true, () => false));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'redis unreachable' });
  });
  // The API reference, open without a key: GET /openapi.json and GET /docs.
  serveOpenApi(app, { maxInputs: ctx.config.job.maxInputs });
  // The web console at /console (static files, open without a key) and a home page at / linking it.
  serveConsole(app);

  if (ctx.config.admin !== null) {
    const board = new ExpressAdapter();
    board.setBasePath('/admin/queues');
    createBullBoard({ queues: [new BullMQAdapter(ctx.queue), webhookBoardAdapter(ctx.webhookQueue)], serverAdapter: board });
    app.use('/admin/queues', basicAuth(ctx.config.admin.user, ctx.config.admin.password), board.getRouter());
  }

  const api = express.Router();
  api.use('/data', requireApiKey(ctx.config.apiKeys), redisReady(ctx), jsonBody(ctx.config.maxBodyBytes));
  api.use('/datasets', requireApiKey(ctx.config.apiKeys), redisReady(ctx));
  api.use(dataGenerateRouter(ctx));
  api.use(datasetsRouter(ctx));
  app.use('/v1', api);
  app.use('/', api);

  app.use(unknownRoute);
  app.use(errorHandler(ctx.logger, ctx.redis));
  return app;
}

/** One log line per request, with the job id when the path names one (the logger redacts credentials). */
function requestLogger(ctx: ApiContext): RequestHandler {
  // Request lines are info: below that level the middleware would cost ~35 µs a request for nothing.
  if (!ctx.logger.isLevelEnabled('info')) return (_req, _res, next) => next();
  return pinoHttp({
    logger: ctx.logger,
    autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' || req.url === '/metrics' },
    customProps: (req) => {
      const jobId = /\/data\/generate\/([^/?]+)/.exec(req.url ?? '')?.[1];
      return jobId === undefined ? {} : { jobId };
    },
  });
}

/** Fail fast while Redis is away, instead of queueing the request behind a reconnect. */
function redisReady(ctx: ApiContext): RequestHandler {
  return (_req, _res, next) => next(ctx.redis.status === 'ready' ? undefined : new ServiceUnavailableError());
}

/**
 * The request body, read as JSON whatever its Content-Type says. A body that
 * cannot be read is the client's error, and body-parser's errors carry its
 * 4xx status: not JSON (400), too large (413), an encoding or charset it does
 * not read (415), a body that does not decompress or an upload cut short
 * (400). Each answers with what was wrong with the body.
 */
function jsonBody(limit: number): RequestHandler {
  const parse = express.json({ limit, type: () => true });
  return (req, res, next) => {
    parse(req, res, (error?: unknown) => next(error === undefined ? undefined : bodyError(error, req, limit)));
  };
}

function bodyError(error: unknown, req: Request, limit: number): unknown {
  const status = clientErrorStatus(error);
  if (status === undefined) return error; // not about the body: the error handler decides
  const { type, message } = error as { type?: unknown; message?: unknown };
  if (type === 'entity.parse.failed') return new HttpError(status, `Malformed JSON in request body: ${String(message)}`);
  if (type === 'entity.too.large') return new HttpError(status, `Request body is too large (the limit is ${limit} bytes).`);
  const encoding = req.header('content-encoding');
  const coded = encoding === undefined || encoding.toLowerCase() === 'identity' ? '' : ` (Content-Encoding: ${encoding})`;
  return new HttpError(status, `Cannot read the request body${coded}: ${String(message)}`);
}
