import { setFlagsFromString } from 'node:v8';
import { ConfigError, createLogger, createMetrics, createProvider, loadConfig } from '@datagen/core';
import { startMetricsServer } from './metricsServer';
import { startGenerationWorker } from './worker';

async function main(): Promise<void> {
  const config = loadConfig();
  limitHeapGrowth(config.worker.heapGrowthPercent);
  const logger = createLogger('worker', config.logLevel);
  const provider = createProvider(config.llm);
  const metrics = createMetrics('worker');
  startMetricsServer(config.metricsPort, metrics, logger);
  const running = await startGenerationWorker(config, provider, logger, metrics);
  logger.info(
    {
      queue: config.queueName,
      concurrency: config.worker.concurrency,
      provider: provider.name,
      llmLimits: config.llmLimits,
      heapGrowthPercent: config.worker.heapGrowthPercent,
    },
    'worker started',
  );

  const shutdown = (signal: string) => {
    logger.info({ signal, graceMs: config.worker.shutdownGraceMs }, 'shutting down');
    void running.close(config.worker.shutdownGraceMs).finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

/**
 * A worker holds little (a job's inputs and dedup index: ~110 MB at 100,000
 * inputs) but makes garbage fast (every LLM call's request and response). On
 * a host with a lot of memory V8 lets the heap grow to up to 4x what its last
 * full collection kept before collecting again, so a worker's resident set
 * follows the host's size, not its work: 330-360 MB for one 100,000-input job
 * here, 215-225 MB at 50 %. The price is 25 full collections instead of 5:
 * about 120 ms more of pauses and 1-2.5 s more CPU (V8 marks concurrently, on
 * its own threads) in a job of 22-25 s CPU, i.e. 5-10 % (docs/benchmarks.md).
 * V8 reads this flag at each full collection, so setting it at startup works;
 * a heap cap (--max-old-space-size) would instead crash a worker that holds
 * more than expected.
 */
function limitHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
