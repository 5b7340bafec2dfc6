import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { createQueue, jobOptions } from '@datagen/core';
import { startFakeLlm } from '../fakeLlmServer';
import { APPLICATION, BENCH_API_KEY, SEEDS, startService } from '../service';
import { fmt, type SectionResult } from '../table';

/**
 * 4. API. Submit throughput: jobs per second through POST /v1/data/generate
 * (auth, validation, the job store's records, the BullMQ add, the answer)
 * against BullMQ's Queue.add alone, same concurrency, same Redis, rounds
 * alternating. Status reads: latency of GET /v1/data/generate/{id} of a job
 * holding 10,000 inputs, under a few concurrent readers (autocannon).
 */
export interface ApiOptions {
  redisUrl: string;
  /** Jobs per submit round and side. */
  submitJobs?: number;
  /** Requests (or adds) in flight. */
  submitConcurrency?: number;
  rounds?: number;
  statusInputs?: number;
  statusConnections?: number;
  statusSeconds?: number;
}

export async function apiSection(options: ApiOptions): Promise<SectionResult> {
  const began = performance.now();
  const submitJobs = options.submitJobs ?? 2_000;
  const concurrency = options.submitConcurrency ?? 16;
  const rounds = options.rounds ?? 3;
  const statusInputs = options.statusInputs ?? 10_000;
  const statusConnections = options.statusConnections ?? 4;
  const statusSeconds = options.statusSeconds ?? 8;

  const llm = await startFakeLlm(0);
  const service = await startService('api', options.redisUrl, llm);
  const rawQueue = createQueue(`${service.ns}-raw`, service.ns, service.redis);
  try {
    const body = JSON.stringify({ application_description: APPLICATION, seeds: SEEDS, num_inputs_to_generate: 10, batch_size: 10 });
    const post = (amount: number) =>
      cannon({
        url: `${service.url}/v1/data/generate`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY },
        body,
        connections: concurrency,
        amount,
      });
    const add = async (amount: number) => {
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < amount) {
            next++;
            const jobId = randomUUID().replaceAll('-', '');
            await rawQueue.add('generate', { jobId }, jobOptions(jobId, service.config.job.retentionHours));
          }
        }),
      );
      return amount / ((performance.now() - start) / 1000);
    };

    // Warm-up of both sides, then rounds that alternate, best of each side.
    await add(300);
    await post(300);
    const rawRates: number[] = [];
    const apiRates: number[] = [];
    for (let round = 0; round < rounds; round++) {
      rawRates.push(await add(submitJobs));
      const result = await post(submitJobs);
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`POST answered ${result.non2xx} non-2xx, ${result.errors} errors`);
      apiRates.push(result.rate);
    }
    const raw = Math.max(...rawRates);
    const api = Math.max(...apiRates);

    // A job holding statusInputs inputs, made by a worker against the instant fake LLM.
    const worker = await service.startWorker();
    const jobId = await service.submit({ num_inputs_to_generate: statusInputs, batch_size: 10 });
    const states = await service.waitForEnd([jobId], 300_000);
    if (states.get(jobId) !== 'DONE') throw new Error(`the status job ended ${states.get(jobId)}`);
    await worker.close(0);
    const statusUrl = `${service.url}/v1/data/generate/${jobId}`;
    const check = await fetch(statusUrl, { headers: { 'x-api-key': BENCH_API_KEY } });
    const text = await check.text();
    const status = JSON.parse(text) as { data: string[]; detailed_status: string[] };
    if (status.data.length !== statusInputs) throw new Error(`the status job holds ${status.data.length} inputs, not ${statusInputs}`);
    await cannon({ url: statusUrl, headers: { 'x-api-key': BENCH_API_KEY }, connections: statusConnections, duration: 1 }); // warm-up
    const reads = await cannon({ url: statusUrl, headers: { 'x-api-key': BENCH_API_KEY }, connections: statusConnections, duration: statusSeconds });
    if (reads.non2xx > 0 || reads.errors > 0) throw new Error(`GET answered ${reads.non2xx} non-2xx, ${reads.errors} errors`);
    const single = await cannon({ url: statusUrl, headers: { 'x-api-key': BENCH_API_KEY }, connections: 1, duration: 3 });

    const section = '4 API';
    const share = api / raw;
    return {
      name: 'api',
      rows: [
        {
          section,
          measure: `submit: jobs/s through POST, ${concurrency} in flight`,
          value: `${fmt.int(api)}/s`,
          versus: `raw BullMQ Queue.add ${fmt.int(raw)}/s`,
          ratio: fmt.pct(share, 0),
          target: '>= 50% of raw',
          met: share >= 0.5,
        },
        {
          section,
          measure: `status read of a job holding ${fmt.int(statusInputs)} inputs, ${statusConnections} readers: p50 / p99`,
          value: `${fmt.ms(reads.latency.p50, 0)} / ${fmt.ms(reads.latency.p99, 0)}`,
          versus: `1 reader: ${fmt.ms(single.latency.p50, 0)} / ${fmt.ms(single.latency.p99, 0)}`,
          target: 'p99 < 50 ms',
          met: reads.latency.p99 < 50,
        },
      ],
      notes: [
        `Submit: ${rounds} rounds of ${fmt.int(submitJobs)} jobs a side, alternating, best round of each side; ` +
          `POST rounds (autocannon, ${concurrency} connections): ${apiRates.map((r) => fmt.int(r)).join(', ')} jobs/s; ` +
          `Queue.add rounds (${concurrency} adds in flight, same job options): ${rawRates.map((r) => fmt.int(r)).join(', ')} jobs/s. ` +
          'autocannon runs in the bench process, beside the API: its HTTP client is charged to the POST side.',
        `Status: ${fmt.int(reads.requests.total)} reads in ${statusSeconds} s (${fmt.int(reads.requests.total / statusSeconds)}/s) of a DONE job with ` +
          `${fmt.int(statusInputs)} inputs and ${status.detailed_status.length} messages, ${fmt.num(text.length / 2 ** 20, 1)} MB of JSON each; ` +
          `p50 / p90 / p99 / max ${fmt.ms(reads.latency.p50, 0)} / ${fmt.ms(reads.latency.p90, 0)} / ${fmt.ms(reads.latency.p99, 0)} / ${fmt.ms(reads.latency.max, 0)} ` +
          `with ${statusConnections} connections (autocannon, latency in whole ms).`,
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await rawQueue.close();
    await service.close();
    await llm.close();
  }
}

async function cannon(options: autocannon.Options): Promise<autocannon.Result & { rate: number }> {
  const start = performance.now();
  const result = await autocannon(options);
  const seconds = (performance.now() - start) / 1000;
  return Object.assign(result, { rate: result['2xx'] / seconds });
}
