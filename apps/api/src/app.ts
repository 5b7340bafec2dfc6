import express, { type Express, type RequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { basicAuth, requireApiKey } from './auth';
import type { ApiContext } from './context';
import { errorHandler, ServiceUnavailableError, unknownRoute, withTimeout } from './errors';
import { serveOpenApi } from './openapi';
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
  app.get('/metrics', async (_req, res) => {
    const queueMetrics = await withTimeout(ctx.queue.exportPrometheusMetrics(), ctx.redisTimeoutMs).catch(() => '');
    res.type(ctx.metrics.registry.contentType).send(`${await ctx.metrics.registry.metrics()}\n${queueMetrics}`);
  });
  app.get('/readyz', async (_req, res) => {
    const ready = ctx.redis.status === 'ready' && (await ctx.redis.ping().then(() => true, () => false));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'redis unreachable' });
  });
  // The API reference, open without a key: GET /openapi.json and GET /docs.
  serveOpenApi(app, { maxInputs: ctx.config.job.maxInputs });

  if (ctx.config.admin !== null) {
    const board = new ExpressAdapter();
    board.setBasePath('/admin/queues');
    createBullBoard({ queues: [new BullMQAdapter(ctx.queue)], serverAdapter: board });
    app.use('/admin/queues', basicAuth(ctx.config.admin.user, ctx.config.admin.password), board.getRouter());
  }

  const api = express.Router();
  api.use('/data', requireApiKey(ctx.config.apiKeys), redisReady(ctx), express.json({ limit: ctx.config.maxBodyBytes, type: () => true }));
  api.use(dataGenerateRouter(ctx));
  app.use('/v1', api);
  app.use('/', api);

  app.use(unknownRoute);
  app.use(errorHandler(ctx.logger));
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
