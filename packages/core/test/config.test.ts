import { ConfigError, DEV_API_KEY, loadConfig, tenantOf } from '@datagen/core';

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

  it('puts every variable where Config has it', () => {
    const config = loadConfig({
      NODE_ENV: 'staging',
      HOST: '127.0.0.1',
      PORT: '9000',
      REDIS_URL: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000',
      REDIS_MODE: 'cluster',
      API_KEYS: 'k1,k2',
      LLM_PROVIDER: 'openai',
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1',
      OPENAI_API_KEY: 'ok',
      OPENAI_MODEL: 'llama3.1',
      OPENAI_MAX_RETRIES: '2',
      OPENAI_TIMEOUT_MS: '60000',
      WORKER_CONCURRENCY: '8',
      WORKER_LOCK_DURATION_MS: '40000',
      WORKER_STALLED_INTERVAL_MS: '20000',
      WORKER_SHUTDOWN_GRACE_MS: '1000',
      WORKER_HEAP_GROWTH_PERCENT: '100',
      JOB_MAX_PARALLEL_BATCHES: '3',
      JOB_MAX_BARREN_BATCHES: '5',
      JOB_MAX_FAILED_CALLS: '6',
      JOB_RETENTION_HOURS: '1.5',
      MAX_INPUTS_PER_JOB: '123',
      CRITIC_ENABLED: 'no',
      LLM_REQUESTS_PER_MINUTE: '60',
      LLM_TOKENS_PER_MINUTE: '90000',
      LLM_MAX_CONCURRENCY: '2',
      MAX_BODY_BYTES: '4096',
      ADMIN_USER: 'ops',
      ADMIN_PASSWORD: 'secret',
      LOG_LEVEL: 'warn',
      METRICS_PORT: '0',
      LLM_PRICE_INPUT_PER_MTOK: '3',
      LLM_PRICE_OUTPUT_PER_MTOK: '15',
      ECONOMY_POLL_MIN_MS: '1000',
      ECONOMY_POLL_MAX_MS: '9000',
      ECONOMY_MAX_FAILED_ROUNDS: '4',
      ECONOMY_OVERSHOOT: '0.25',
      LLM_PRICES: '{"llama": {"input": 0.1, "output": 0.2}}',
      QUEUE_NAME: 'jobs',
      KEY_PREFIX: 'pre',
      SCHEDULING: 'fifo',
      QUOTA_MAX_OPEN_JOBS: '7',
      QUOTA_MAX_OPEN_INPUTS: '700',
      QUOTA_SUBMITS_PER_MINUTE: '70',
      KEY_QUOTAS: '{"k1": {"maxOpenJobs": 1}, "k2": {"submitsPerMinute": 0}}',
      LLM_FAIR_SHARE: 'false',
      WEBHOOK_URL: 'https://hooks.example.com/all',
      WEBHOOK_URLS: '{"k1":"https://hooks.example.com/k1"}',
      WEBHOOK_SECRET: `whsec_${'A'.repeat(32)}`,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_PROGRESS_INTERVAL_MS: '1000',
      WEBHOOK_CONCURRENCY: '2',
      WEBHOOK_RETRY_BASE_MS: '500',
      DATASET_MAX_ITEMS: '50',
      WORKER_MAX_STALLS: '7',
    });
    expect(config).toStrictEqual({
      nodeEnv: 'staging',
      host: '127.0.0.1',
      port: 9000,
      redisUrl: 'redis://10.0.0.1:7000,redis://10.0.0.2:7000',
      redisMode: 'cluster',
      redisNodes: ['redis://10.0.0.1:7000', 'redis://10.0.0.2:7000'],
      apiKeys: ['k1', 'k2'],
      usingDevKey: false,
      llm: { provider: 'openai', baseURL: 'http://127.0.0.1:11434/v1', apiKey: 'ok', model: 'llama3.1', maxRetries: 2, timeoutMs: 60_000 },
      worker: { concurrency: 8, lockDurationMs: 40_000, stalledIntervalMs: 20_000, maxStallsWithoutProgress: 7, shutdownGraceMs: 1_000, heapGrowthPercent: 100 },
      job: { maxParallelBatches: 3, maxBarrenBatches: 5, maxFailedCalls: 6, retentionHours: 1.5, maxInputs: 123, critic: false, datasetMaxItems: 50 },
      llmLimits: { requestsPerMinute: 60, tokensPerMinute: 90_000, maxConcurrency: 2 },
      tenancy: {
        scheduling: 'fifo',
        quota: { maxOpenJobs: 7, maxOpenInputs: 700, submitsPerMinute: 70 },
        keyQuotas: { k1: { maxOpenJobs: 1 }, k2: { submitsPerMinute: 0 } },
        llmFairShare: false,
      },
      maxBodyBytes: 4096,
      admin: { user: 'ops', password: 'secret' },
      logLevel: 'warn',
      metricsPort: 0,
      llmPrice: { inputPerMTok: 3, outputPerMTok: 15 },
      llmPrices: { llama: { inputPerMTok: 0.1, outputPerMTok: 0.2 } },
      economy: { byDefault: false, pollMinMs: 1000, pollMaxMs: 9000, maxFailedRounds: 4, overshoot: 0.25 },
      queueName: 'jobs',
      keyPrefix: 'pre',
      webhooks: {
        url: 'https://hooks.example.com/all',
        urlsByTenant: { [tenantOf('k1')]: 'https://hooks.example.com/k1' },
        secret: `whsec_${'A'.repeat(32)}`,
        allowPrivate: true,
        progressIntervalMs: 1000,
        concurrency: 2,
        retryBaseMs: 500,
      },
    });
  });

  it.each([
    ['not json', 'KEY_QUOTAS'],
    ['{"k1": {"maxOpenJobs": -1}}', 'KEY_QUOTAS'],
    ['{"k1": {"maxJobs": 1}}', 'KEY_QUOTAS'],
    ['[1]', 'KEY_QUOTAS'],
  ])('names KEY_QUOTAS for a bad value %j', (value, variable) => {
    expect(() => loadConfig({ KEY_QUOTAS: value })).toThrow(new RegExp(`${variable}: `));
  });

  it('leaves out what is not set: no admin, no price override, the critic on; an empty variable is not set', () => {
    const config = loadConfig({ HOST: '', PORT: '  ', API_KEYS: ' ', CRITIC_ENABLED: '' });
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8080, apiKeys: [DEV_API_KEY], admin: null, llmPrice: null, job: { critic: true } });
    expect(loadConfig({ CRITIC_ENABLED: 'false' }).job.critic).toBe(false);
    expect(loadConfig({ CRITIC_ENABLED: 'yes' }).job.critic).toBe(true);
  });

  it('takes the Anthropic settings only for Anthropic, trimmed', () => {
    expect(loadConfig({ ANTHROPIC_API_KEY: '  sk-test  ' }).llm).toStrictEqual({
      provider: 'anthropic',
      apiKey: 'sk-test',
      baseURL: undefined,
      model: 'claude-sonnet-5-5',
      maxRetries: 4,
      timeoutMs: 120_000,
    });
    expect(loadConfig({ LLM_PROVIDER: 'offline', ANTHROPIC_API_KEY: 'sk', OPENAI_MODEL: 'x' }).llm).toStrictEqual({ provider: 'offline' });
  });

  it.each([
    [{ ADMIN_PASSWORD: 'pw' }, 'ADMIN_PASSWORD'],
    [{ LLM_PRICE_INPUT_PER_MTOK: '1' }, 'LLM_PRICE_OUTPUT_PER_MTOK'],
    [{ LLM_PRICE_OUTPUT_PER_MTOK: '-1' }, 'LLM_PRICE_OUTPUT_PER_MTOK'],
    [{ CRITIC_ENABLED: 'maybe' }, 'CRITIC_ENABLED'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ QUEUE_NAME: 'a queue' }, 'QUEUE_NAME'],
    [{ KEY_PREFIX: 'a:b' }, 'KEY_PREFIX'],
    [{ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: 'ftp://127.0.0.1/v1', OPENAI_MODEL: 'm' }, 'OPENAI_BASE_URL'],
    [{ ANTHROPIC_BASE_URL: 'not a url' }, 'ANTHROPIC_BASE_URL'],
    [{ ANTHROPIC_TIMEOUT_MS: '10' }, 'ANTHROPIC_TIMEOUT_MS'],
    [{ MAX_BODY_BYTES: '10' }, 'MAX_BODY_BYTES'],
    [{ METRICS_PORT: '-1' }, 'METRICS_PORT'],
  ])('also names the variable for %j', (env, variable) => {
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\n  ${variable}: `));
  });

  it('names every bad variable at once, and both that LLM_PROVIDER=openai needs', () => {
    const message = (() => {
      try {
        loadConfig({ PORT: 'x', WORKER_CONCURRENCY: '0', LOG_LEVEL: 'loud' });
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^Invalid configuration:\n/);
    for (const variable of ['PORT', 'WORKER_CONCURRENCY', 'LOG_LEVEL']) expect(message).toMatch(new RegExp(`\\n  ${variable}: `));
    expect(() => loadConfig({ LLM_PROVIDER: 'openai' })).toThrow(/OPENAI_BASE_URL: .*\n {2}OPENAI_MODEL: /);
  });

  it('starts in production when keys are given', () => {
    const config = loadConfig({ NODE_ENV: 'production', API_KEYS: 'k1' });
    expect(config.usingDevKey).toBe(false);
  });
});
