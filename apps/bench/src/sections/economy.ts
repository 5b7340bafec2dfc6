import { performance } from 'node:perf_hooks';
import { createLogger, createMetrics, createProvider, jobKeys, loadConfig, type DataGenerationStatus } from '@datagen/core';
import { EVAL_APPLICATIONS } from '@datagen/core/testing';
import { startGenerationWorker } from '@datagen/worker/dist/worker';
import { startFakeLlm, type FakeLlm } from '../fakeLlmServer';
import { BENCH_API_KEY, startService } from '../service';
import { fmt, type Row, type SectionResult } from '../table';

/**
 * 8. Economy mode against interactive: the same N inputs over the eval's
 * applications (N / 5 each, the five jobs at once), through the API, one
 * in-process worker and the Anthropic SDK against the fake, which answers
 * Message Batches after `batchProcessingMs` (the real API: minutes to hours).
 * Cost at the default model's price (claude-sonnet-5-5, $3 / $15 per MTok,
 * cache writes 1.25x, reads 0.1x the input price, batch 50 % off).
 */
export interface EconomyOptions {
  redisUrl: string;
  n: number;
  batchSize: number;
  latencyMs: number;
  batchProcessingMs: number;
}

export const ECONOMY_DEFAULTS = { n: 1_000, batchSize: 10, latencyMs: 200, batchProcessingMs: 20_000 };

interface Side {
  seconds: number;
  costUsd: number;
  accepted: number;
  billedTokens: number;
  cacheSavingsUsd: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
  discountUsd: number;
  batchRequests: number;
  /** Seconds the worker held the jobs, summed, and the jobs' own wall times, summed. */
  heldSeconds: number;
  jobSeconds: number;
  batches: number;
}

export async function economySection(options: EconomyOptions): Promise<SectionResult> {
  const began = performance.now();
  const llm = await startFakeLlm(options.latencyMs, options.batchProcessingMs);
  try {
    const interactive = await runSide(options, llm, false);
    const economy = await runSide(options, llm, true);
    const section = '8 economy';
    const costRatio = economy.costUsd / interactive.costUsd;
    const holdShare = economy.heldSeconds / economy.jobSeconds;
    const latency = (options.batchProcessingMs / 1000) * Math.max(1, economy.batches / EVAL_APPLICATIONS.length);
    const per1000 = (side: Side) => (side.costUsd * 1000) / side.accepted;
    const cachedShare = interactive.cacheSavingsUsd / (interactive.costUsd + interactive.cacheSavingsUsd);
    const rows: Row[] = [
      {
        section,
        measure: `billed cost of N=${fmt.int(options.n)} (5 eval applications), economy against interactive`,
        value: `$${fmt.num(economy.costUsd, 4)} ($${fmt.num(per1000(economy), 4)} per 1,000)`,
        versus: `interactive $${fmt.num(interactive.costUsd, 4)} ($${fmt.num(per1000(interactive), 4)} per 1,000)`,
        ratio: fmt.ratio(costRatio),
        target: '<= 0.55x',
        met: costRatio <= 0.55,
      },
      {
        section,
        measure: 'share of an economy job\'s wall time it holds a worker',
        value: fmt.pct(holdShare),
        versus: `held ${fmt.s(economy.heldSeconds)} of ${fmt.s(economy.jobSeconds)} (5 jobs summed)`,
        target: '< 5%',
        met: holdShare < 0.05,
      },
      {
        section,
        measure: `economy wall time, provider batches of ${fmt.s(options.batchProcessingMs / 1000, 0)}`,
        value: fmt.s(economy.seconds),
        versus: `provider latency ${fmt.s(latency)} (${economy.batches} batches over 5 jobs; interactive took ${fmt.s(interactive.seconds)})`,
        ratio: fmt.ratio(economy.seconds / latency),
      },
      {
        section,
        measure: 'interactive: billed tokens per accepted input',
        value: fmt.int(interactive.billedTokens / interactive.accepted),
        versus: `economy ${fmt.int(economy.billedTokens / economy.accepted)}`,
      },
      {
        section,
        measure: 'interactive: what prompt caching saves',
        value: `$${fmt.num(interactive.cacheSavingsUsd, 4)} (${fmt.pct(cachedShare, 1)} of the uncached cost)`,
        versus: `${fmt.int(interactive.cacheReadTokens)} tokens read from the cache, ${fmt.int(interactive.cacheWriteTokens)} written`,
      },
    ];
    return {
      name: 'economy',
      rows,
      notes: [
        `Economy: five jobs of N=${fmt.int(options.n / 5)} on the eval's applications at once, batch_size ${options.batchSize}, critic off (as in the other sections), ` +
          `through one in-process worker; the fake answers a Message Batch after ${fmt.s(options.batchProcessingMs / 1000, 0)} and interactive calls after ${options.latencyMs} ms. ` +
          `Economy sent ${economy.batchRequests} requests in ${economy.batches} provider batches (the batch API took $${fmt.num(economy.discountUsd, 4)} off); its themes went interactively. ` +
          `A worker holds an economy job only to plan and submit a round, poll it, and judge its answers; between polls the job waits in BullMQ's delayed set.`,
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await llm.close();
  }
}

async function runSide(options: EconomyOptions, llm: FakeLlm, economy: boolean): Promise<Side> {
  const extra = { ECONOMY_POLL_MIN_MS: '2000', ECONOMY_POLL_MAX_MS: '5000', JOB_MAX_PARALLEL_BATCHES: '4' };
  const service = await startService(economy ? 'economy' : 'interactive', options.redisUrl, llm, extra);
  const metrics = createMetrics('worker');
  const worker = await startGenerationWorker(loadConfig(service.env), createProvider(service.config.llm), createLogger('bench', 'silent'), metrics);
  service.workers.push(worker);
  try {
    const batchesBefore = (await llm.stats()).batchesCreated;
    const start = performance.now();
    const each = Math.round(options.n / EVAL_APPLICATIONS.length);
    const ids = await Promise.all(
      EVAL_APPLICATIONS.map((app) =>
        service.submit({ application_description: app.description, seeds: app.seeds, num_inputs_to_generate: each, batch_size: options.batchSize, ...(economy && { economy: true }) }),
      ),
    );
    const states = await service.waitForEnd(ids, 600_000);
    const seconds = (performance.now() - start) / 1000;
    for (const id of ids) if (states.get(id) !== 'DONE') throw new Error(`the ${economy ? 'economy' : 'interactive'} job ${id} ended ${states.get(id)}`);
    const side: Side = { seconds, costUsd: 0, accepted: 0, billedTokens: 0, cacheSavingsUsd: 0, cacheReadTokens: 0, cacheWriteTokens: 0, discountUsd: 0, batchRequests: 0, heldSeconds: 0, jobSeconds: 0, batches: 0 };
    for (const id of ids) {
      const res = await fetch(`${service.url}/v1/data/generate/${id}`, { headers: { 'x-api-key': BENCH_API_KEY } });
      const status = (await res.json()) as DataGenerationStatus;
      const cost = status.report.cost;
      if (cost.estimated_usd === null) throw new Error(`no cost for job ${id}: ${cost.note}`);
      side.costUsd += cost.estimated_usd;
      side.accepted += status.num_generated;
      side.billedTokens += status.usage.input_tokens + status.usage.output_tokens;
      side.cacheSavingsUsd += cost.cache_savings_usd ?? 0;
      side.cacheReadTokens += cost.cache_read_tokens;
      side.cacheWriteTokens += cost.cache_write_tokens;
      side.discountUsd += cost.discount_usd ?? 0;
      side.batchRequests += cost.batch_requests;
      const [created, finished] = await service.redis.hmget(jobKeys(service.ns, id).meta, 'created_at', 'finished_at');
      side.jobSeconds += (Number(finished) - Number(created)) / 1000;
    }
    const held = await metrics.jobHoldSeconds.get();
    side.heldSeconds = held.values.reduce((sum, v) => sum + v.value, 0);
    side.batches = (await llm.stats()).batchesCreated - batchesBefore;
    return side;
  } finally {
    await service.close();
  }
}
