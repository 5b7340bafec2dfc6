/** Stops the Redis the global setup started for this run, if it started one. */
module.exports = async function globalTeardown() {
  if (globalThis.__REDIS_SERVER__) await globalThis.__REDIS_SERVER__.stop();
  if (globalThis.__REDIS_CONTAINER__) await globalThis.__REDIS_CONTAINER__.stop();
};
