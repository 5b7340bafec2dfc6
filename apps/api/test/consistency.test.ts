import { seededRandom, TERMINAL_STATES, type JobState } from '@datagen/core';
import { startFakeAnthropic, type FakeAnthropic } from '@datagen/core/testing';
import { ProcessStack } from '../../../test/support/processes';
import { KEY_A, submitJob, waitForJobEnd } from '../../../test/support/stack';

/**
 * Reads are true under concurrency: many short jobs end on two workers while
 * several readers poll each one and the list, and cancels race completions.
 * No read may show DONE with fewer than N inputs, and no terminal state may
 * be taken back (a job seen DONE never later shows CANCELLED, and so on).
 */

let stack: ProcessStack;
let api: { url: string };
let fake: FakeAnthropic;
afterEach(async () => {
  await stack?.stop();
  await fake?.close();
});

const JOBS = 32;
const READERS_PER_JOB = 6;

interface Seen {
  state: JobState;
  count: number;
}

async function get(path: string): Promise<any> {
  const res = await fetch(`${api.url}${path}`, { headers: { 'x-api-key': KEY_A } });
  if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
  return res.json();
}

it('never shows DONE short of N, nor takes back a terminal state, with readers, lists and cancels racing', async () => {
  // Real processes: the API and two workers, on the fake Anthropic API (a job of a few inputs ends within a second).
  fake = await startFakeAnthropic({ latencyMs: (i) => 5 + (i % 7) * 5 });
  stack = new ProcessStack({ anthropicUrl: fake.url, env: { WORKER_CONCURRENCY: '8', JOB_MAX_PARALLEL_BATCHES: '2' } });
  api = await stack.startApi();
  await Promise.all([stack.startWorker(), stack.startWorker()]);
  const random = seededRandom(7);

  const targets = new Map<string, number>();
  const submitted = await Promise.all(
    Array.from({ length: JOBS }, async (_, i) => {
      const n = 3 + (i % 8);
      const id = await submitJob(api, {
        application_description: 'Answer questions about a small vocabulary of things.',
        seeds: ['Question: what is a lantern?', 'Question: how old is the oldest sequoia?'],
        num_inputs_to_generate: n,
        batch_size: 1 + (i % 4),
      });
      targets.set(id, n);
      return id;
    }),
  );

  const problems: string[] = [];
  const check = (where: string, id: string, seen: Seen, history: Seen[]) => {
    const n = targets.get(id);
    if (n === undefined) return; // a job of another test run
    if (seen.state === 'DONE' && seen.count !== n) problems.push(`${where}: ${id} DONE with ${seen.count} of ${n}`);
    const terminal = history.find((h) => TERMINAL_STATES.has(h.state));
    if (terminal !== undefined && seen.state !== terminal.state) {
      problems.push(`${where}: ${id} showed ${terminal.state}, then ${seen.state}`);
    }
    history.push(seen);
  };

  // Readers: each polls its job until it has seen the end three times (a take-back would show after).
  const readers = submitted.flatMap((id) =>
    Array.from({ length: READERS_PER_JOB }, async () => {
      const history: Seen[] = [];
      let endsSeen = 0;
      while (endsSeen < 3) {
        const status = await get(`/v1/data/generate/${id}`);
        check('status', id, { state: status.state, count: status.data.length }, history);
        if (status.num_generated !== status.data.length) problems.push(`status: ${id} num_generated ${status.num_generated} but ${status.data.length} items`);
        if (TERMINAL_STATES.has(status.state)) endsSeen++;
      }
    }),
  );

  // Cancels: a third of the jobs, at a random moment around their end.
  const cancels = submitted
    .filter((_, i) => i % 3 === 0)
    .map(async (id) => {
      await new Promise((r) => setTimeout(r, Math.floor(random() * 120)));
      const res = await fetch(`${api.url}/v1/data/generate/${id}`, { method: 'DELETE', headers: { 'x-api-key': KEY_A } });
      const body = (await res.json()) as any;
      if (res.status !== 200 && res.status !== 409) problems.push(`cancel: ${id} answered ${res.status} ${JSON.stringify(body)}`);
      return { id, status: res.status, body };
    });

  // The list, polled until every job has ended.
  const listHistory = new Map<string, Seen[]>();
  let listsRead = 0;
  const lister = (async () => {
    for (;;) {
      const page = (await get('/v1/data/generate?limit=100')) as any[];
      listsRead++;
      for (const status of page) {
        const history = listHistory.get(status.job_id) ?? [];
        listHistory.set(status.job_id, history);
        check('list', status.job_id, { state: status.state, count: status.num_generated }, history);
      }
      const ours = page.filter((s) => targets.has(s.job_id));
      if (ours.length === JOBS && ours.every((s) => TERMINAL_STATES.has(s.state))) return;
    }
  })();

  await Promise.all([...readers, lister]);
  const cancelAnswers = await Promise.all(cancels);

  const finals = new Map<string, any>();
  for (const id of submitted) finals.set(id, await waitForJobEnd(api, id));
  for (const [id, final] of finals) {
    const n = targets.get(id)!;
    if (final.state === 'DONE') {
      expect(final.data).toHaveLength(n);
      expect(new Set(final.data).size).toBe(n);
    } else {
      expect(final.state).toBe('CANCELLED');
      expect(final.data.length).toBeLessThanOrEqual(n);
    }
  }
  // A 409 names the state the job had ended in: its final state.
  for (const answer of cancelAnswers) {
    const final = finals.get(answer.id).state;
    if (answer.status === 409 && !String(answer.body.detail).includes(`(${final})`)) problems.push(`cancel: ${answer.id} 409 ${answer.body.detail} but ended ${final}`);
    if (answer.status === 200 && final !== 'CANCELLED') problems.push(`cancel: ${answer.id} accepted (${answer.body}) but ended ${final}`);
  }
  expect(listsRead).toBeGreaterThan(0);
  expect(problems).toEqual([]);
}, 120_000);
