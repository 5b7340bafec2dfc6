import { performance } from 'node:perf_hooks';
import { processMemory } from '../env';
import { startFakeLlm } from '../fakeLlmServer';
import { startService } from '../service';
import { fmt, type SectionResult } from '../table';

/**
 * 6. Memory: the peak resident set (VmHWM) of a worker process
 * (`node apps/worker/dist/main.js`) that runs one job of 100,000 inputs
 * against the instant fake LLM, read from /proc while it runs and at the end.
 */
export interface MemoryOptions {
  redisUrl: string;
  n: number;
  batchSize: number;
}

export const MEMORY_DEFAULTS = { n: 100_000, batchSize: 10 };

export async function memorySection(options: MemoryOptions): Promise<SectionResult> {
  const began = performance.now();
  const llm = await startFakeLlm(0);
  const service = await startService('memory', options.redisUrl, llm, { WORKER_CONCURRENCY: '1' });
  try {
    const worker = await service.spawnWorker();
    const idle = processMemory(worker.pid);
    const start = performance.now();
    const jobId = await service.submit({ num_inputs_to_generate: options.n, batch_size: options.batchSize });
    let sampled = 0;
    const sampler = setInterval(() => {
      const m = processMemory(worker.pid);
      if (m !== null) sampled = Math.max(sampled, m.rssMb);
    }, 250);
    let states: Map<string, string>;
    try {
      states = await service.waitForEnd([jobId], 600_000);
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - start) / 1000;
    const end = processMemory(worker.pid);
    if (states.get(jobId) !== 'DONE') throw new Error(`the memory job ended ${states.get(jobId)}`);
    if (end === null) throw new Error('cannot read /proc/<pid>/status of the worker (Linux only)');
    const peak = Math.max(end.peakMb, sampled);
    return {
      name: 'memory',
      rows: [
        {
          section: '6 memory',
          measure: `peak RSS of a worker process, one job of N=${fmt.int(options.n)}`,
          value: fmt.mb(peak),
          versus: idle !== null ? `idle worker ${fmt.mb(idle.rssMb)}` : undefined,
          target: '< 300 MB',
          met: peak < 300,
        },
      ],
      notes: [
        `Memory: VmHWM of the worker process after the job (peak resident set, Linux /proc); the job took ${fmt.s(seconds, 1)} ` +
          `(${fmt.int(options.n / seconds)} inputs/s, worker in its own process), RSS at the end ${fmt.mb(end.rssMb)}.`,
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await service.close();
    await llm.close();
  }
}
