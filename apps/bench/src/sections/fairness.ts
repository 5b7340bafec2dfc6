import { performance } from 'node:perf_hooks';
import { createQueue } from '@datagen/core';
import { startFakeLlm, type FakeLlm } from '../fakeLlmServer';
import { APPLICATION, SEEDS, startService } from '../service';
import { fmt, type Row, type SectionResult } from '../table';

/**
 * 7. Fair share: a heavy key floods the queue, then a light key submits a
 * few jobs, spread out; how long did the light key's jobs wait in the queue
 * (BullMQ's processedOn - timestamp)? FIFO against fair scheduling (keys
 * take turns: a job's priority is its rank among its key's unfinished jobs),
 * in one run, on the same workers and LLM.
 */
export interface FairnessOptions {
  redisUrl: string;
  heavyJobs: number;
  lightJobs: number;
  /** Pause between two of the light key's submits. */
  lightEveryMs: number;
  n: number;
  latencyMs: number;
  workers: number;
  workerConcurrency: number;
}

export const FAIRNESS_DEFAULTS = {
  heavyJobs: 80,
  lightJobs: 12,
  lightEveryMs: 200,
  n: 5,
  latencyMs: 100,
  workers: 2,
  workerConcurrency: 2,
};

const HEAVY = 'bench-heavy-key';
const LIGHT = 'bench-light-key';

interface RunResult {
  scheduling: 'fifo' | 'fair';
  light: number[];
  heavy: number[];
  seconds: number;
}

export async function fairnessSection(options: FairnessOptions): Promise<SectionResult> {
  const began = performance.now();
  const llm = await startFakeLlm(options.latencyMs);
  try {
    const fifo = await runOnce(options, llm, 'fifo');
    const fair = await runOnce(options, llm, 'fair');
    const section = '7 fair share';
    const rows: Row[] = [];
    for (const q of [0.5, 0.99] as const) {
      const name = q === 0.5 ? 'p50' : 'p99';
      const f = quantile(fair.light, q);
      const o = quantile(fifo.light, q);
      rows.push({
        section,
        measure: `light key's queue wait, ${name} (${options.lightJobs} jobs behind ${options.heavyJobs} of a heavy key)`,
        value: `fair ${fmt.s(f, 2)}`,
        versus: `FIFO ${fmt.s(o, 2)}`,
        ratio: fmt.ratio(o / Math.max(f, 0.001), 1),
        target: q === 0.99 ? 'fair p99 <= FIFO p50 / 4' : undefined,
        met: q === 0.99 ? f <= quantile(fifo.light, 0.5) / 4 : undefined,
      });
    }
    rows.push({
      section,
      measure: "heavy key's queue wait, p50",
      value: `fair ${fmt.s(quantile(fair.heavy, 0.5), 2)}`,
      versus: `FIFO ${fmt.s(quantile(fifo.heavy, 0.5), 2)}`,
      ratio: fmt.ratio(quantile(fair.heavy, 0.5) / Math.max(quantile(fifo.heavy, 0.5), 0.001), 2),
    });
    return {
      name: 'fairness',
      rows,
      notes: [
        `Fair share: ${options.heavyJobs} jobs of N=${options.n} submitted at once by one key, then ${options.lightJobs} by another, one every ${options.lightEveryMs} ms; ` +
          `${options.workers} worker processes x ${options.workerConcurrency} jobs, LLM ${options.latencyMs} ms. SCHEDULING=fifo, then fair, same everything else ` +
          `(FIFO run ${fmt.s(fifo.seconds, 1)}, fair run ${fmt.s(fair.seconds, 1)} to drain). Light key's waits, s: FIFO ${fifo.light.map((w) => w.toFixed(2)).join(', ')}; ` +
          `fair ${fair.light.map((w) => w.toFixed(2)).join(', ')}. The heavy key pays a little: its last jobs wait for the light key's turns.`,
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await llm.close();
  }
}

async function runOnce(options: FairnessOptions, llm: FakeLlm, scheduling: 'fifo' | 'fair'): Promise<RunResult> {
  const service = await startService(`fair${scheduling}`, options.redisUrl, llm, {
    API_KEYS: `${HEAVY},${LIGHT}`,
    SCHEDULING: scheduling,
    WORKER_CONCURRENCY: String(options.workerConcurrency),
  });
  const queue = createQueue(service.config.queueName, service.config.keyPrefix, service.redis);
  try {
    await Promise.all(Array.from({ length: options.workers }, () => service.spawnWorker()));
    const start = performance.now();
    const heavy = await Promise.all(Array.from({ length: options.heavyJobs }, () => submit(service.url, HEAVY, options.n)));
    const light: string[] = [];
    for (let i = 0; i < options.lightJobs; i++) {
      await new Promise((resolve) => setTimeout(resolve, options.lightEveryMs));
      light.push(await submit(service.url, LIGHT, options.n));
    }
    const states = await service.waitForEnd([...heavy, ...light], 600_000);
    const seconds = (performance.now() - start) / 1000;
    const notDone = [...states.values()].filter((s) => s !== 'DONE').length;
    if (notDone > 0) throw new Error(`${notDone} fair-share jobs did not end DONE`);
    return { scheduling, light: await waits(queue, light), heavy: await waits(queue, heavy), seconds };
  } finally {
    await queue.close();
    await service.close();
  }
}

async function submit(url: string, key: string, n: number): Promise<string> {
  const res = await fetch(`${url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify({ application_description: APPLICATION, seeds: SEEDS, num_inputs_to_generate: n, batch_size: n }),
  });
  if (res.status !== 200) throw new Error(`submit answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { job_id: string }).job_id;
}

/** Each job's wait in the queue, in seconds: from its submit to a worker taking it. */
async function waits(queue: ReturnType<typeof createQueue>, ids: string[]): Promise<number[]> {
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
  return jobs.map((job) => ((job?.processedOn ?? 0) - (job?.timestamp ?? 0)) / 1000);
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
