module.exports = async function globalTeardown() {
  if (globalThis.__REDIS_CONTAINER__) await globalThis.__REDIS_CONTAINER__.stop();
};
