import { performance } from 'node:perf_hooks';
import { startFakeLlm } from '../fakeLlmServer';
import { startService } from '../service';
import { fmt, type SectionResult } from '../table';

/**
 * 2. Time to N against the ideal. The LLM sets a job's pace: ceil(N / batch)
 * calls, `inFlight` at a time, each taking the call latency. Everything else
 * (queue, Redis writes, parsing, dedup) should add little: the measured time
 * from POST to the job's DONE over ceil(N/batch) / inFlight x latency.
 */
export interface TimeToNOptions {
  redisUrl: string;
  n: number;
  batchSize: number;
  inFlight: number;
  latencyMs: number;
}

export const TIME_TO_N_DEFAULTS = { n: 1_000, batchSize: 10, inFlight: 4, latencyMs: 200 };

export async function timeToNSection(options: TimeToNOptions): Promise<SectionResult> {
  const began = performance.now();
  const { n, batchSize, inFlight, latencyMs } = options;
  const llm = await startFakeLlm(latencyMs);
  const service = await startService('time', options.redisUrl, llm, { JOB_MAX_PARALLEL_BATCHES: String(inFlight) });
  try {
    await service.startWorker();
    // Warm-up: one small job, so connections, JIT and BullMQ scripts are ready.
    await service.waitForEnd([await service.submit({ num_inputs_to_generate: 2 * batchSize * inFlight, batch_size: batchSize })], 60_000);

    const callsBefore = (await llm.stats()).calls;
    const start = performance.now();
    const jobId = await service.submit({ num_inputs_to_generate: n, batch_size: batchSize });
    const states = await service.waitForEnd([jobId], 300_000);
    const seconds = (performance.now() - start) / 1000;
    const calls = (await llm.stats()).calls - callsBefore;
    if (states.get(jobId) !== 'DONE') throw new Error(`the time-to-N job ended ${states.get(jobId)}`);

    const idealCalls = Math.ceil(n / batchSize);
    const ideal = (idealCalls / inFlight) * (latencyMs / 1000);
    const ratio = seconds / ideal;
    const section = '2 time to N';
    return {
      name: 'time-to-n',
      rows: [
        {
          section,
          measure: `time to N=${fmt.int(n)}, batch ${batchSize}, ${inFlight} in flight, LLM ${latencyMs} ms, critic off`,
          value: fmt.s(seconds),
          versus: `ideal ${fmt.s(ideal)} (${idealCalls} calls / ${inFlight} x ${latencyMs} ms)`,
          ratio: fmt.ratio(ratio),
          target: '<= 1.25x',
          met: ratio <= 1.25,
        },
      ],
      notes: [
        `Time to N: from the POST to the job's DONE, through the API, BullMQ, one in-process worker and the Anthropic SDK against the fake LLM (${latencyMs} ms a call). ` +
          `The job made ${calls} LLM calls (the ideal is ${idealCalls}: more means some candidates were duplicates). ` +
          `With the calls it really made, the floor is ${fmt.s((Math.ceil(calls / inFlight) * latencyMs) / 1000)}.`,
        'There is no critic yet: only the critic-off figure exists.',
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await service.close();
    await llm.close();
  }
}
