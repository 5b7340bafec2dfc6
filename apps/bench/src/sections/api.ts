import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createQueue, jobOptions } from '@datagen/core';
import { startFakeLlm } from '../fakeLlmServer';
import { cannon, type LoadResult } from '../load';
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
  /** Seconds per submit round and side. */
  submitSeconds?: number;
  /** Requests (or adds) in flight. */
  submitConcurrency?: number;
  rounds?: number;
  statusInputs?: number;
  statusConnections?: number;
  statusSeconds?: number;
}

export async function apiSection(options: ApiOptions): Promise<SectionResult> {
  const began = performance.now();
  const submitSeconds = options.submitSeconds ?? 2;
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
    // By duration, not by count: autocannon ends a counted run on its next one-second tick, which caps the rate it reports.
    const post = (seconds: number, connections = concurrency, url = `${service.url}/v1/data/generate`) =>
      cannon({
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': BENCH_API_KEY },
        body,
        connections,
        duration: seconds,
      });
    const add = async (seconds: number, inFlight = concurrency) => {
      let done = 0;
      const start = performance.now();
      const deadline = start + seconds * 1000;
      await Promise.all(
        Array.from({ length: inFlight }, async () => {
          while (performance.now() < deadline) {
            const jobId = randomUUID().replaceAll('-', '');
            await rawQueue.add('generate', { jobId }, jobOptions(jobId, service.config.job.retentionHours));
            done++;
          }
        }),
      );
      return { jobs: done, rate: done / ((performance.now() - start) / 1000) };
    };
    // The floor any HTTP API has here: a bare node:http server that parses the body and calls Queue.add.
    const bare = await startBareServer(rawQueue, service.config.job.retentionHours);
    const checked = async (result: Promise<LoadResult>) => {
      const r = await result;
      if (r.non2xx > 0 || r.errors > 0) throw new Error(`POST answered ${r.non2xx} non-2xx, ${r.errors} errors`);
      return { jobs: r['2xx'], rate: r.rate };
    };
    /** Jobs/s, and CPU of this process per job: the API and the bare server run here, their clients (autocannon) in a process of their own. */
    const measured = async (run: () => Promise<{ jobs: number; rate: number }>) => {
      const cpu = process.cpuUsage();
      const { jobs, rate } = await run();
      const used = process.cpuUsage(cpu);
      return { rate, cpuUs: (used.user + used.system) / jobs };
    };

    // Warm-up of every side, then rounds that alternate, best of each side.
    await add(1);
    await post(1);
    await post(1, concurrency, bare.url);
    const rawRuns: Array<{ rate: number; cpuUs: number }> = [];
    const apiRuns: Array<{ rate: number; cpuUs: number }> = [];
    const bareRuns: Array<{ rate: number; cpuUs: number }> = [];
    for (let round = 0; round < rounds; round++) {
      rawRuns.push(await measured(() => add(submitSeconds)));
      apiRuns.push(await measured(() => checked(post(submitSeconds))));
      bareRuns.push(await measured(() => checked(post(submitSeconds, concurrency, bare.url))));
    }
    const best = (runs: Array<{ rate: number; cpuUs: number }>) => ({
      rate: Math.max(...runs.map((r) => r.rate)),
      cpuUs: Math.min(...runs.map((r) => r.cpuUs)),
    });
    const raw = best(rawRuns);
    const api = best(apiRuns);
    const bareBest = best(bareRuns);
    const oneByOne = await post(2, 1);
    // What the client itself can do here: an answer that costs the server nothing.
    const clientCeiling = (await checked(post(2, concurrency, bare.pingUrl))).rate;
    await bare.close();

    // A job holding statusInputs inputs, made by a worker against the instant fake LLM.
    const worker = await service.startWorker();
    const jobId = await service.submit({ num_inputs_to_generate: statusInputs, batch_size: 10 });
    const states = await service.waitForEnd([jobId], 300_000);
    if (states.get(jobId) !== 'DONE') throw new Error(`the status job ended ${states.get(jobId)}`);
    await worker.close(10_000);
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
    const share = api.rate / raw.rate;
    return {
      name: 'api',
      rows: [
        {
          section,
          measure: `submit: jobs/s through POST, ${concurrency} in flight`,
          value: `${fmt.int(api.rate)}/s`,
          versus: `raw BullMQ Queue.add ${fmt.int(raw.rate)}/s`,
          ratio: fmt.pct(share, 0),
          target: '>= 50% of raw',
          met: share >= 0.5,
        },
        {
          section,
          measure: 'submit: a bare node:http server + Queue.add, same client (no framework, validation or job store)',
          value: `${fmt.int(bareBest.rate)}/s`,
          versus: `raw BullMQ Queue.add ${fmt.int(raw.rate)}/s; POST ${fmt.pct(api.rate / bareBest.rate, 0)} of this`,
          ratio: fmt.pct(bareBest.rate / raw.rate, 0),
        },
        {
          section,
          measure: 'submit: CPU per job (API process)',
          value: `${fmt.int(api.cpuUs)} µs`,
          versus: `Queue.add ${fmt.int(raw.cpuUs)} µs; bare node:http + Queue.add ${fmt.int(bareBest.cpuUs)} µs`,
          ratio: `${fmt.num(api.cpuUs / raw.cpuUs, 1)}x Queue.add`,
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
        `Submit: ${rounds} rounds of ${submitSeconds} s a side, alternating, best round of each side; ` +
          `POST rounds (autocannon, ${concurrency} connections): ${apiRuns.map((r) => fmt.int(r.rate)).join(', ')} jobs/s; ` +
          `Queue.add rounds (${concurrency} adds in flight, same job options): ${rawRuns.map((r) => fmt.int(r.rate)).join(', ')} jobs/s; ` +
          `a bare node:http server that parses the body and calls Queue.add (no framework, validation or job store), same client: ${bareRuns.map((r) => fmt.int(r.rate)).join(', ')} jobs/s. ` +
          `autocannon runs in a process of its own (a client; against an answer that costs nothing it reaches ${fmt.int(clientCeiling)} requests/s here, ` +
          `${clientCeiling < 1.5 * bareBest.rate ? 'so it is what limits both HTTP sides' : 'well above both HTTP sides'}), the API in the bench process. ` +
          `One POST at a time: ${fmt.int(oneByOne.rate)}/s (${fmt.ms(1000 / oneByOne.rate, 2)} each, client included).`,
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

/** A bare node:http server on loopback: reads the JSON body, adds the job to BullMQ, answers its id. No framework, no validation, no job store. */
async function startBareServer(queue: ReturnType<typeof createQueue>, retentionHours: number): Promise<{ url: string; pingUrl: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/ping') {
      req.resume();
      req.on('end', () => res.end('{}'));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const jobId = randomUUID().replaceAll('-', '');
      queue.add('generate', { jobId }, jobOptions(jobId, retentionHours)).then(
        () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ job_id: jobId, state: 'QUEUED' }));
        },
        () => {
          res.writeHead(503);
          res.end();
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/data/generate`,
    pingUrl: `http://127.0.0.1:${port}/ping`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
