import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BatchCounts } from './model/job';

/**
 * Prometheus metrics of one process (API or worker), in its own registry so
 * tests can make as many as they like. Names and labels are one list here,
 * shared by both processes.
 */
export interface Metrics {
  registry: Registry;
  llmCallSeconds: Histogram<'provider' | 'outcome'>;
  llmTokens: Counter<'provider' | 'direction'>;
  inputs: Counter<'outcome'>;
  unusableAnswers: Counter;
  jobsFinished: Counter<'state'>;
  jobsSubmitted: Counter;
  /** Jobs queued and running, by key (its tenant id's first 12 hex digits: a hash, never the key); the API sets it at each scrape. */
  keyJobs: Gauge<'key' | 'state'>;
  /** LLM calls by key (a worker's). */
  keyLlmCalls: Counter<'key'>;
  /** Estimated cost of the LLM tokens recorded, by mode (interactive, economy), discount applied. */
  llmCostUsd: Counter<'mode'>;
  /** What the provider's batch API took off (economy mode). */
  llmDiscountUsd: Counter;
  /** Prompt-cache tokens, by kind (read, write). */
  llmCacheTokens: Counter<'kind'>;
  /** Seconds a worker held a job (ran it), by mode: economy jobs give their worker back while the provider works. */
  jobHoldSeconds: Counter<'mode'>;
}

/** How a key (tenant) is labelled in metrics: a short prefix of its tenant id, which is itself a hash of the key. */
export function keyLabel(tenant: string): string {
  return tenant.slice(0, 12);
}

export function createMetrics(service: 'api' | 'worker'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    llmCallSeconds: new Histogram({
      name: 'datagen_llm_call_duration_seconds',
      help: 'Duration of LLM calls, by provider and outcome (ok, rate_limited, failed, fatal, aborted).',
      labelNames: ['provider', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 80, 160],
      registers,
    }),
    llmTokens: new Counter({
      name: 'datagen_llm_tokens_total',
      help: 'Tokens used by LLM calls, by provider and direction (input, output).',
      labelNames: ['provider', 'direction'],
      registers,
    }),
    inputs: new Counter({
      name: 'datagen_inputs_total',
      help: 'Generated candidates by outcome: accepted, exact_duplicate, near_duplicate, filtered.',
      labelNames: ['outcome'],
      registers,
    }),
    unusableAnswers: new Counter({
      name: 'datagen_unusable_answers_total',
      help: 'LLM answers that held no usable input (refused, empty, unparsable).',
      registers,
    }),
    jobsFinished: new Counter({
      name: 'datagen_jobs_finished_total',
      help: 'Jobs that ended, by final state.',
      labelNames: ['state'],
      registers,
    }),
    jobsSubmitted: new Counter({ name: 'datagen_jobs_submitted_total', help: 'Jobs accepted by the API.', registers }),
    keyJobs: new Gauge({
      name: 'datagen_key_jobs',
      help: 'Unfinished jobs by key (a hash of it) and state (queued, running), as of the scrape.',
      labelNames: ['key', 'state'],
      registers,
    }),
    llmCostUsd: new Counter({
      name: 'datagen_llm_cost_usd_total',
      help: 'Estimated cost of the LLM tokens recorded (USD, at the configured price, the batch discount applied), by mode.',
      labelNames: ['mode'],
      registers,
    }),
    llmDiscountUsd: new Counter({ name: 'datagen_llm_batch_discount_usd_total', help: "What the provider's batch API took off (USD, economy mode).", registers }),
    llmCacheTokens: new Counter({ name: 'datagen_llm_cache_tokens_total', help: 'Prompt-cache input tokens, by kind (read, write).', labelNames: ['kind'], registers }),
    jobHoldSeconds: new Counter({
      name: 'datagen_job_hold_seconds_total',
      help: 'Seconds workers held jobs (ran them), by mode; economy jobs give their worker back while the provider works.',
      labelNames: ['mode'],
      registers,
    }),
    keyLlmCalls: new Counter({ name: 'datagen_key_llm_calls_total', help: 'LLM calls by key (a hash of it).', labelNames: ['key'], registers }),
  };
}

/** Counts what became of one batch's candidates. */
export function countBatch(metrics: Metrics, accepted: number, counts: BatchCounts | undefined): void {
  if (accepted > 0) metrics.inputs.inc({ outcome: 'accepted' }, accepted);
  if (counts === undefined) return;
  if (counts.exactDuplicates > 0) metrics.inputs.inc({ outcome: 'exact_duplicate' }, counts.exactDuplicates);
  if (counts.nearDuplicates > 0) metrics.inputs.inc({ outcome: 'near_duplicate' }, counts.nearDuplicates);
  if (counts.filtered > 0) metrics.inputs.inc({ outcome: 'filtered' }, counts.filtered);
  if (counts.unusableAnswers > 0) metrics.unusableAnswers.inc(counts.unusableAnswers);
}
