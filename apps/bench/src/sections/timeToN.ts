import { performance } from 'node:perf_hooks';
import { startFakeLlm, type FakeLlm } from '../fakeLlmServer';
import { startService } from '../service';
import { fmt, type Row, type SectionResult } from '../table';

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
  try {
    const off = await runOnce(options, llm, false);
    // The critic (CRITIC_ENABLED) judges each batch in a second call, after the generation call.
    const on = off.criticSupported ? await runOnce(options, llm, true) : null;

    const idealCalls = Math.ceil(n / batchSize);
    const ideal = (idealCalls / inFlight) * (latencyMs / 1000);
    const section = '2 time to N';
    const rows: Row[] = [
      {
        section,
        measure: `time to N=${fmt.int(n)}, batch ${batchSize}, ${inFlight} in flight, LLM ${latencyMs} ms, critic off`,
        value: fmt.s(off.seconds),
        versus: `ideal ${fmt.s(ideal)} (${idealCalls} calls / ${inFlight} x ${latencyMs} ms)`,
        ratio: fmt.ratio(off.seconds / ideal),
        target: '<= 1.25x',
        met: off.seconds / ideal <= 1.25,
      },
    ];
    if (on !== null) {
      rows.push({
        section,
        measure: `the same, critic on (a second call per batch)`,
        value: fmt.s(on.seconds),
        versus: `ideal ${fmt.s(2 * ideal)} (twice the calls, in sequence)`,
        ratio: fmt.ratio(on.seconds / (2 * ideal)),
      });
    }
    return {
      name: 'time-to-n',
      rows,
      notes: [
        `Time to N: from the POST to the job's DONE, through the API, BullMQ, one in-process worker and the Anthropic SDK against the fake LLM (${latencyMs} ms a call). ` +
          `Critic off, the job made ${off.calls} LLM calls against the ideal's ${idealCalls}: the worker first asks once for the job's themes ` +
          `(one call latency before the first batch), and a rejected candidate now and then costs a further batch; ` +
          `with the calls it really made, the floor is ${fmt.s((Math.ceil(off.calls / inFlight) * latencyMs) / 1000)}.` +
          (on !== null ? ` Critic on: ${on.calls} calls.` : ''),
        on !== null
          ? 'The target is for the critic off; with it on, each batch waits for a second call (the critic), so its ideal is twice as long.'
          : 'There is no critic yet: only the critic-off figure exists.',
      ],
      seconds: (performance.now() - began) / 1000,
    };
  } finally {
    await llm.close();
  }
}

async function runOnce(options: TimeToNOptions, llm: FakeLlm, critic: boolean): Promise<{ seconds: number; calls: number; criticSupported: boolean }> {
  const { n, batchSize, inFlight } = options;
  const service = await startService('time', options.redisUrl, llm, { JOB_MAX_PARALLEL_BATCHES: String(inFlight), CRITIC_ENABLED: String(critic) });
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
    return { seconds, calls, criticSupported: 'critic' in service.config.job };
  } finally {
    await service.close();
  }
}
