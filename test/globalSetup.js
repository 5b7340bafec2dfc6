/**
 * Tests talk to a real Redis: REDIS_URL when it is set (CI starts the
 * machine's Redis), otherwise a throwaway Redis container from testcontainers.
 */
module.exports = async function globalSetup() {
  if (process.env.REDIS_URL) return;
  if (process.env.REDIS_MODE === 'cluster') {
    throw new Error('REDIS_MODE=cluster needs REDIS_URL, a node of a running cluster (scripts/redis-cluster.sh start)');
  }
  const { RedisContainer } = require('@testcontainers/redis');
  const container = await new RedisContainer('redis:7-alpine').start();
  globalThis.__REDIS_CONTAINER__ = container;
  process.env.REDIS_URL = container.getConnectionUrl();
};
