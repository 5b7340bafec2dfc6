import { ConfigError, createLogger, createMetrics, createProvider, loadConfig } from '@datagen/core';
import { startMetricsServer } from './metricsServer';
import { startGenerationWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('worker', config.logLevel);
  const provider = createProvider(config.llm);
  const metrics = createMetrics('worker');
  startMetricsServer(config.metricsPort, metrics, logger);
  const running = await startGenerationWorker(config, provider, logger, metrics);
  logger.info(
    { queue: config.queueName, concurrency: config.worker.concurrency, provider: provider.name, llmLimits: config.llmLimits },
    'worker started',
  );

  const shutdown = (signal: string) => {
    logger.info({ signal, graceMs: config.worker.shutdownGraceMs }, 'shutting down');
    void running.close(config.worker.shutdownGraceMs).finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
