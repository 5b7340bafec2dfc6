import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { Metrics } from '@datagen/core';

/**
 * A worker's own /metrics (Prometheus) and /healthz, on METRICS_PORT. A port
 * already taken (several workers on one host) costs the metrics, not the worker.
 */
export function startMetricsServer(port: number, metrics: Metrics, logger: Logger): Server | null {
  if (port === 0) return null;
  const server = createServer((req, res) => {
    if (req.url === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else {
      res.writeHead(404).end();
    }
  });
  server.on('error', (err) => logger.warn({ err: err.message, port }, 'metrics endpoint not started'));
  server.listen(port, () => logger.info({ port }, 'metrics on /metrics'));
  server.unref();
  return server;
}
