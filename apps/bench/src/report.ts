import type { Machine } from './env';
import { renderTable, type SectionResult } from './table';

/** docs/benchmarks.md: written by every full `npm run bench`. */
export interface ReportInput {
  machine: Machine;
  results: SectionResult[];
  startedAt: Date;
  totalSeconds: number;
  loadBefore: number;
  loadAfter: number;
  redisOwn: boolean;
  sections: readonly string[];
  full: boolean;
}

export function writeReport(input: ReportInput): string {
  const { machine, results } = input;
  const rows = results.flatMap((r) => r.rows);
  const missed = rows.filter((r) => r.met === false);
  const lines = [
    '# Benchmarks',
    '',
    '<!-- Written by `npm run bench` (apps/bench/src/main.ts, report.ts). Edit those, not this file. -->',
    '',
    'A job\'s time is set by the LLM provider: ceil(N / batch_size) calls, divided by the calls in flight, times the call latency. ' +
      'These benchmarks check that everything the service adds on top (queue, Redis writes, dedup, parsing, the API) stays small against that, ' +
      'also as N grows to 100,000. Each comparison runs both of its sides in the same run, back to back, and reports the ratio: ' +
      'the machines are shared and noisy, absolute figures move from run to run, ratios much less.',
    '',
    '## Machine and run',
    '',
    `- CPU: ${machine.cpu}, ${machine.cores} cores; memory ${machine.memoryGb} GB; ${machine.platform}`,
    `- Node ${machine.node}; Redis ${machine.redis} (${input.redisOwn ? 'a redis-server the bench started on a loopback port, no persistence' : 'REDIS_URL'})`,
    `- Run ${input.startedAt.toISOString()}, ${Math.round(input.totalSeconds)} s in all${input.full ? '' : ` (sections: ${input.sections.join(', ')})`}; ` +
      `1-minute load average ${input.loadBefore} at the start, ${input.loadAfter} at the end`,
    '',
    '## Commands',
    '',
    '```bash',
    'npm run bench                                   # build, run every section, print the table, write docs/benchmarks.md',
    'npm run bench -- --only api                     # one section (dedup, time-to-n, engine, api, scale-out, memory), or a list: --only dedup,engine',
    'npm run bench -- --only memory --out /tmp/m.md  # a partial run writes a report only when asked',
    'REDIS_URL=redis://127.0.0.1:6379 npm run bench  # use that Redis (each section uses its own QUEUE_NAME/KEY_PREFIX and deletes its keys)',
    '```',
    '',
    'Without `REDIS_URL` the bench starts `redis-server` on a free loopback port (no persistence) and stops it at the end. ' +
      'The fake LLM is packages/core/src/testing/fakeAnthropic.ts (the Anthropic Messages API over HTTP, with configurable latency) in a process of its own; ' +
      'workers call it through the real `@anthropic-ai/sdk`. No Docker is needed.',
    '',
    '## Results',
    '',
    renderTable(rows),
    '',
    ...results.flatMap((r) => r.notes.map((note) => `- ${note}`)),
    '',
    READING,
    '',
    CHANGES,
    '',
    '## What falls short',
    '',
    ...(missed.length === 0
      ? ['Every target was met in this run.']
      : missed.map((r) => `- **${r.section}: ${r.measure}**: ${r.value} against a target of ${r.target}.`)),
    '',
    SHORTFALLS,
    '',
  ];
  return lines.join('\n');
}

const READING = `## How to read each figure

1. **dedup**: \`DedupIndex\` (MinHash-LSH candidates, then ROUGE-L F1 on the candidates) against the Self-Instruct filter
   (ROUGE-L F1 of each new input against every kept one), on the same generated corpus, one core. *Speedup* is naive time over
   index time at 10,000 inputs (the naive filter is quadratic: 100,000 would take about an hour, so it is not run).
   *Recall* is the share of planted near duplicates (1-2 words of an earlier input changed) that were rejected.
   *False positives* are unplanted inputs rejected; a few may be real chance near duplicates, which is why the naive filter's
   count is shown beside it.
2. **time to N**: wall time from the POST to the job's DONE, through API, BullMQ, a worker and the Anthropic SDK, against
   a fake LLM that takes 200 ms a call, over the ideal ceil(N/batch) / in-flight x latency. 1.00x would mean the service adds
   nothing; the excess is queue pickup, the calls lost to duplicates, and the tail (the last round of calls is not full).
   There is no critic yet, so only the critic-off figure exists.
3. **engine + Redis**: the same path with an LLM that answers at once, so what is left is our own cost per input: prompt
   building, the SDK's request and response handling, parsing, dedup, the Lua append to Redis, progress messages. One worker,
   one job of 20,000.
4. **API**: *submit* is jobs/s through \`POST /v1/data/generate\` (authentication, validation, the job store's records, the
   BullMQ add, the JSON answer) over BullMQ \`Queue.add\` alone at the same concurrency; *status* is the latency of
   \`GET /v1/data/generate/{id}\` of a finished job holding 10,000 inputs (about 1.5 MB of JSON), with a few concurrent readers.
5. **scale-out**: jobs/min of 40 jobs for 1, 2 and 4 worker *processes*, and the ratio to one. With 200 ms calls the
   workers mostly wait, so the ratio should track the worker count until something shared caps it. The capped rows repeat the
   runs with \`LLM_REQUESTS_PER_MINUTE\` below what 4 workers would call: calls/min must stay at the limit, so jobs/min
   flattens once the limit binds.
6. **memory**: peak resident set (VmHWM) of a worker process that ran one job of 100,000 inputs.`;

const CHANGES = `## What was changed to reach the targets

Figures are from runs of this bench on the machine above (the "before" side with the code as it was).

(filled in below)`;

const SHORTFALLS = '';
