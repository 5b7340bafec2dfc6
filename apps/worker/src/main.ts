import { pino } from 'pino';
import { ConfigError, createProvider, loadConfig } from '@datagen/core';
import { startGenerationWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = pino({ level: config.logLevel, base: { service: 'worker' } });
  const provider = createProvider(config.llm);
  const running = await startGenerationWorker(config, provider, logger);
  logger.info({ queue: config.queueName, concurrency: config.worker.concurrency, provider: provider.name }, 'worker started');

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
