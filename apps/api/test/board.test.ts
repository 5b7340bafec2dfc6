import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { GenerateBatchRequest, GenerateBatchResult, LlmProvider } from '@datagen/core';
import { KEY_A, startStack, waitFor, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/**
 * The queue UI shows the work: bull-board, opened in headless Chromium
 * (Debian's package) behind its basic auth, lists a running job with its
 * progress, a finished one at 100 %, and the webhook deliveries. Chromium
 * missing fails this test: it is installed by .ci/run.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** A folder to save what the browser saw into (BOARD_SCREENSHOTS=/tmp), for a person to look at. */
const SCREENSHOTS = process.env.BOARD_SCREENSHOTS;
const ADMIN = { username: 'ops', password: 's3cret' };
const HOLD = 'Hold me: answer questions slowly.';

/** Fast, except that a job whose description is HOLD stops after its second batch of inputs, until released. */
class HoldingProvider implements LlmProvider {
  readonly name = 'board test provider';
  readonly isLlm = true;
  private readonly inner = new SequenceProvider();
  private held = 0;
  private release!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const { purpose, applicationDescription } = request.context;
    if (applicationDescription === HOLD && (purpose === undefined || purpose === 'inputs') && ++this.held > 2) {
      await new Promise<void>((resolve, reject) => {
        void this.released.then(resolve);
        request.signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
      });
    }
    return this.inner.generateBatch(request);
  }

  letGo(): void {
    this.release();
  }
}

let stack: TestStack;
let provider: HoldingProvider;
let receiver: Server;
let browser: Browser;
let finished: string;
let running: string;

beforeAll(async () => {
  receiver = createServer((_req, res) => res.writeHead(204).end());
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  provider = new HoldingProvider();
  stack = await startStack({
    provider,
    env: {
      ADMIN_USER: ADMIN.username,
      ADMIN_PASSWORD: ADMIN.password,
      WEBHOOK_SECRET: `whsec_${randomBytes(32).toString('base64')}`,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      JOB_MAX_PARALLEL_BATCHES: '1',
    },
  });
  const { port } = receiver.address() as AddressInfo;
  finished = await submit({ application_description: 'Answer questions about things.', num_inputs_to_generate: 6, batch_size: 3, webhook_url: `http://127.0.0.1:${port}/hook?token=s3cr3t-token` });
  expect((await waitForJobEnd(stack, finished)).state).toBe('DONE');
  running = await submit({ application_description: HOLD, num_inputs_to_generate: 10, batch_size: 2, exploration_mode: 'ADVENTUROUS' });
  // Held after two batches of two: 4 of 10.
  await waitFor(async () => ((await stack.api.ctx.queue.getJob(running))?.progress as any)?.accepted === 4, 15_000, 'the running job to store 4 inputs');
}, 60_000);

afterAll(async () => {
  await browser?.close();
  provider?.letGo();
  await stack?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function submit(body: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${stack.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
    body: JSON.stringify({ seeds: ['Question: what is a lantern?'], ...body }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { job_id: string }).job_id;
}

it('puts the size and mode on the queue job (nothing else), its progress per batch, and its messages as log lines', async () => {
  const queue = stack.api.ctx.queue;
  // Completed once the worker is through with it (its last log line is written before).
  const done = await waitFor(async () => {
    const job = await queue.getJob(finished);
    return job?.finishedOn !== undefined ? job : null;
  });
  expect(done.data).toEqual({ jobId: finished, n: 6, mode: 'BALANCED' });
  expect(done.progress).toEqual({ progress: 100, accepted: 6, target: 6 });
  const held = (await queue.getJob(running))!;
  expect(held.data).toEqual({ jobId: running, n: 10, mode: 'ADVENTUROUS' });
  expect(held.progress).toEqual({ progress: 40, accepted: 4, target: 10 });
  expect(await held.getState()).toBe('active');

  const { logs } = await queue.getJobLogs(finished);
  expect(logs[0]).toMatch(/^Started: generating 6 inputs/);
  expect(logs.some((line) => /\(6\/6 done\)/.test(line))).toBe(true);
  expect(logs.at(-1)).toMatch(/^Done: 6 inputs generated/);
  // The same messages the API shows, in order (the API's also start with "Queued").
  const status = await (await fetch(`${stack.url}/v1/data/generate/${finished}`, { headers: { 'x-api-key': KEY_A } })).json();
  expect(logs).toEqual((status as any).detailed_status.slice(1));
});

describe('in headless Chromium', () => {
  let page: Page;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium), as .ci/run does`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS, timeout: 30_000 });
    const context = await browser.newContext({ httpCredentials: ADMIN });
    page = await context.newPage();
  }, 60_000);

  const shot = async (name: string) => {
    if (SCREENSHOTS !== undefined) await page.screenshot({ path: `${SCREENSHOTS}/${name}.png`, fullPage: true });
  };

  /** The card of a job on a board page: the element around its id that also holds its progress. */
  const card = (id: string) => page.locator('[class*="card"]', { hasText: id }).first();

  it('signs in and shows the running job with its progress', async () => {
    const res = await page.goto(`${stack.url}/admin/queues/queue/${stack.config.queueName}?status=active`);
    expect(res?.status()).toBe(200);
    await card(running).waitFor({ timeout: 15_000 });
    await shot('board-active');
    await expect(card(running).locator('svg text').textContent()).resolves.toBe('40%');
  }, 60_000);

  it('shows the finished job at 100 %', async () => {
    await page.goto(`${stack.url}/admin/queues/queue/${stack.config.queueName}?status=completed`);
    await card(finished).waitFor({ timeout: 15_000 });
    await shot('board-completed');
    await expect(card(finished).locator('svg text').textContent()).resolves.toBe('100%');
  }, 60_000);

  it('shows the webhook queue with the finished job’s delivery, its URL without the token', async () => {
    const id = `msg_${finished}_done`;
    await waitFor(async () => (await stack.api.ctx.webhookQueue.getJob(id))?.finishedOn !== undefined, 15_000, 'the delivery');
    await page.goto(`${stack.url}/admin/queues/queue/${stack.config.queueName}-webhooks?status=completed`);
    await card(id).waitFor({ timeout: 15_000 });
    await shot('board-webhooks');
    const text = (await card(id).textContent()) ?? '';
    expect(text).toContain('job.done');
    expect(text).not.toContain('s3cr3t-token');
  }, 60_000);
});
