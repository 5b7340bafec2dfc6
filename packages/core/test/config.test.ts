import { ConfigError, DEV_API_KEY, loadConfig } from '@datagen/core';

describe('loadConfig', () => {
  it('fills in the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 8080,
      redisUrl: 'redis://127.0.0.1:6379',
      apiKeys: [DEV_API_KEY],
      usingDevKey: true,
      llm: { provider: 'offline' },
      admin: null,
      job: { maxInputs: 10_000, retentionHours: 168 },
      worker: { concurrency: 4, heapGrowthPercent: 50 },
    });
  });

  it("lets a worker's heap growth be set, or left to V8 with 0", () => {
    expect(loadConfig({ WORKER_HEAP_GROWTH_PERCENT: '0' }).worker.heapGrowthPercent).toBe(0);
    expect(loadConfig({ WORKER_HEAP_GROWTH_PERCENT: '120' }).worker.heapGrowthPercent).toBe(120);
  });

  it('picks Anthropic when a key is set, and honours its base URL and model', () => {
    const config = loadConfig({ ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999', ANTHROPIC_MODEL: 'claude-x' });
    expect(config.llm).toMatchObject({ provider: 'anthropic', apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9999', model: 'claude-x' });
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-test', LLM_PROVIDER: 'offline' }).llm.provider).toBe('offline');
  });

  it('reads one Redis by default, and the seed nodes of a cluster in cluster mode', () => {
    expect(loadConfig({})).toMatchObject({ redisMode: 'standalone', redisNodes: ['redis://127.0.0.1:6379'] });
    const config = loadConfig({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://127.0.0.1:7000, redis://127.0.0.1:7001' });
    expect(config).toMatchObject({ redisMode: 'cluster', redisNodes: ['redis://127.0.0.1:7000', 'redis://127.0.0.1:7001'] });
    expect(loadConfig({ REDIS_MODE: 'cluster', REDIS_URL: 'redis://127.0.0.1:7000' }).redisNodes).toEqual(['redis://127.0.0.1:7000']);
  });

  it('reads comma-separated API keys', () => {
    expect(loadConfig({ API_KEYS: ' a, b ,,c ' }).apiKeys).toEqual(['a', 'b', 'c']);
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL'],
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'REDIS_URL'],
    [{ REDIS_URL: 'redis://127.0.0.1:7000,redis://127.0.0.1:7001' }, 'REDIS_URL'],
    [{ REDIS_MODE: 'cluster', REDIS_URL: 'redis://127.0.0.1:7000,127.0.0.1:7001' }, 'REDIS_URL'],
    [{ REDIS_MODE: 'sentinel' }, 'REDIS_MODE'],
    [{ WORKER_CONCURRENCY: '0' }, 'WORKER_CONCURRENCY'],
    [{ WORKER_HEAP_GROWTH_PERCENT: '301' }, 'WORKER_HEAP_GROWTH_PERCENT'],
    [{ WORKER_HEAP_GROWTH_PERCENT: 'half' }, 'WORKER_HEAP_GROWTH_PERCENT'],
    [{ JOB_MAX_PARALLEL_BATCHES: '1.5' }, 'JOB_MAX_PARALLEL_BATCHES'],
    [{ LLM_PROVIDER: 'gemini' }, 'LLM_PROVIDER'],
    [{ LLM_PROVIDER: 'openai' }, 'OPENAI_BASE_URL'],
    [{ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }, 'OPENAI_MODEL'],
    [{ LLM_PROVIDER: 'anthropic' }, 'ANTHROPIC_API_KEY'],
    [{ NODE_ENV: 'production' }, 'API_KEYS'],
    [{ ADMIN_USER: 'ops' }, 'ADMIN_PASSWORD'],
    [{ JOB_RETENTION_HOURS: '-1' }, 'JOB_RETENTION_HOURS'],
    [{ MAX_INPUTS_PER_JOB: '0' }, 'MAX_INPUTS_PER_JOB'],
  ])('stops with a message naming the variable for %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`${variable}: `));
  });

  it('starts in production when keys are given', () => {
    const config = loadConfig({ NODE_ENV: 'production', API_KEYS: 'k1' });
    expect(config.usingDevKey).toBe(false);
  });
});
