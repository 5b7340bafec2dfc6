import { ConfigError, createLogger, DEV_API_KEY, loadConfig } from '@datagen/core';
import { startApiServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('api', config.logLevel);
  if (config.usingDevKey) {
    logger.warn(`API_KEYS is not set: accepting only the development key "${DEV_API_KEY}". Set API_KEYS before exposing this service.`);
  }
  const api = await startApiServer(config, logger);
  logger.info({ port: config.port, provider: config.llm.provider, admin: config.admin !== null }, 'api listening');

  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    void api.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
