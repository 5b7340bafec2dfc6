import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { deliverWebhook, tenantOf, webhookEventSchema, type WebhookJobData } from '@datagen/core';
import { KEY_A, KEY_B, startStack, waitFor, waitForJobEnd, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/**
 * Webhooks end to end: jobs run through the real API and worker on the real
 * Redis, their events queued and delivered by the worker's webhook Worker to
 * a real receiver on loopback, which checks each signature with the
 * standardwebhooks package. And the SSRF guard, at submit and at delivery.
 */

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const request = {
  application_description: 'Answer questions about a small vocabulary of things.',
  seeds: ['Question: what is a lantern?', 'Question: how old is the oldest sequoia?'],
  exploration_mode: 'CONSERVATIVE',
};

interface Received {
  id: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** What standardwebhooks' verify said: the payload, or its error. */
  verified: unknown;
  answered: number;
}

/** An HTTP receiver on loopback that verifies each request's signature and answers what `answer` says for the n-th attempt of an id. */
async function startReceiver(answer: (id: string, attempt: number) => number): Promise<{ url: string; port: number; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const verifier = new Webhook(SECRET);
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const id = String(req.headers['webhook-id']);
      let verified: unknown;
      try {
        verified = verifier.verify(body, req.headers as Record<string, string>);
      } catch (error) {
        verified = error;
      }
      const status = answer(id, received.filter((r) => r.id === id).length + 1);
      received.push({ id, path: req.url ?? '', headers: req.headers, body, verified, answered: status });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? 'the receiver is having a bad day' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

let stack: TestStack | undefined;
let receiver: Awaited<ReturnType<typeof startReceiver>> | undefined;
afterEach(async () => {
  await stack?.stop();
  await receiver?.close();
  stack = undefined;
  receiver = undefined;
});

async function post(body: object, key = KEY_A): Promise<{ status: number; json: any }> {
  const res = await fetch(`${stack!.url}/v1/data/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

/** The BullMQ job of a webhook event once it has failed for good. */
function failedDelivery(id: string) {
  return waitFor(
    async () => {
      const job = await stack!.api.ctx.webhookQueue.getJob(id);
      return job !== undefined && (await job.getState()) === 'failed' ? job : null;
    },
    15_000,
    `the delivery of ${id} to fail`,
  );
}

it('POSTs a signed job.done event, retried under the same webhook-id until the receiver takes it, and progress events', async () => {
  // The receiver fails the first two attempts of each terminal event.
  receiver = await startReceiver((id, attempt) => (id.endsWith('_done') && attempt <= 2 ? 500 : 200));
  stack = await startStack({
    provider: new SequenceProvider({ latencyMs: 20 }),
    env: {
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_PROGRESS_INTERVAL_MS: '100',
      JOB_MAX_PARALLEL_BATCHES: '1',
    },
  });
  const { status, json } = await post({ ...request, num_inputs_to_generate: 12, batch_size: 3, webhook_url: `${receiver.url}/hooks/datagen?token=t0k`, webhook_progress: true });
  expect(status).toBe(200);
  const jobId: string = json.job_id;
  const done = await waitForJobEnd(stack, jobId);
  expect(done.state).toBe('DONE');

  const doneId = `msg_${jobId}_done`;
  const attemptsOf = () => receiver!.received.filter((r) => r.id === doneId);
  await waitFor(async () => attemptsOf().some((r) => r.answered === 200), 15_000, 'the job.done event to be taken');
  const attempts = attemptsOf();
  expect(attempts.map((a) => a.answered)).toEqual([500, 500, 200]);
  for (const attempt of attempts) {
    expect(attempt.path).toBe('/hooks/datagen?token=t0k');
    expect(attempt.headers['content-type']).toBe('application/json');
    expect(attempt.headers['webhook-id']).toBe(doneId);
    expect(attempt.headers['webhook-timestamp']).toMatch(/^\d{10}$/);
    expect(attempt.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(attempt.verified).not.toBeInstanceOf(Error); // the signature holds
    expect(attempt.body).toBe(attempts[0]!.body); // the same event each time
  }
  // Another secret does not verify it.
  const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
  expect(() => other.verify(attempts[0]!.body, attempts[0]!.headers as Record<string, string>)).toThrow();

  const event = JSON.parse(attempts[0]!.body);
  expect(webhookEventSchema.safeParse(event).error).toBeUndefined(); // the shape OpenAPI's webhooks section gives
  expect(event).toEqual({
    type: 'job.done',
    job_id: jobId,
    state: 'DONE',
    num_generated: 12,
    num_inputs_to_generate: 12,
    report: done.report,
    usage: done.usage,
    links: { status: `/v1/data/generate/${jobId}`, data: `/v1/data/generate/${jobId}/data`, items: `/v1/data/generate/${jobId}/items` },
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
  });
  expect(event.report.diversity).not.toBeNull();

  // Its delivery in the queue: completed on the third attempt, each attempt in its log.
  const queue = stack.api.ctx.webhookQueue;
  // The receiver has answered; BullMQ records the completion just after.
  const delivery = await waitFor(async () => {
    const job = await queue.getJob(doneId);
    return job?.finishedOn !== undefined ? job : null;
  });
  expect(await delivery.getState()).toBe('completed');
  expect(delivery.returnvalue).toEqual({ status: 200 });
  const { logs } = await queue.getJobLogs(doneId);
  expect(logs).toEqual(['attempt 1: answered 500: the receiver is having a bad day', 'attempt 2: answered 500: the receiver is having a bad day', 'attempt 3: delivered (200)']);

  // Progress: the first batch's at least (the next ones at most every 100 ms), each its own event, running.
  // Delivered apart from the done event, maybe after it: wait until every one queued is delivered.
  await waitFor(
    async () => {
      const queued = await queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
      const sent = queued.filter((j) => j.data.event.type === 'job.progress');
      return sent.length > 0 && sent.every((j) => j.finishedOn !== undefined) ? sent : null;
    },
    15_000,
    'the progress events to be delivered',
  );
  const progress = receiver.received.filter((r) => r.id !== doneId).map((r) => ({ id: r.id, verified: r.verified, event: JSON.parse(r.body) }));
  expect(progress.length).toBeGreaterThanOrEqual(1);
  for (const p of progress) {
    expect(p.verified).not.toBeInstanceOf(Error);
    expect(p.event).toMatchObject({ type: 'job.progress', job_id: jobId, state: 'RUNNING', num_inputs_to_generate: 12 });
    expect(p.event.num_generated).toBeGreaterThan(0);
    expect(p.event.num_generated).toBeLessThanOrEqual(12);
    expect(p.id).toBe(`msg_${jobId}_progress_${p.event.num_generated}`);
  }
  expect(new Set(progress.map((p) => p.id)).size).toBe(progress.length);
});

it('sends job.cancelled for a queued job the API cancels (queued by the API, delivered by a worker), to the key’s default URL', async () => {
  receiver = await startReceiver(() => 204);
  stack = await startStack({
    env: {
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: 'true',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_URL: `${receiver.url}/everyone`,
      WEBHOOK_URLS: JSON.stringify({ [KEY_A]: `${receiver.url}/key-a` }),
    },
  });
  const a = (await post({ ...request, num_inputs_to_generate: 5 }, KEY_A)).json.job_id as string;
  const b = (await post({ ...request, num_inputs_to_generate: 5 }, KEY_B)).json.job_id as string;
  for (const [jobId, key] of [
    [a, KEY_A],
    [b, KEY_B],
  ] as const) {
    const res = await fetch(`${stack.url}/v1/data/generate/${jobId}`, { method: 'DELETE', headers: { 'x-api-key': key } });
    expect(res.status).toBe(200);
  }
  // Queued by the API when it ended them; no worker yet, so nothing sent.
  await waitFor(() => stack!.api.ctx.webhookQueue.getJob(`msg_${b}_cancelled`), 5_000, 'the API to queue the event');
  expect(receiver.received).toHaveLength(0);

  await stack.startWorker(new SequenceProvider());
  await waitFor(async () => receiver!.received.length >= 2, 15_000, 'both events to arrive');
  const byJob = new Map(receiver.received.map((r) => [JSON.parse(r.body).job_id as string, r]));
  expect(byJob.get(a)!.path).toBe('/key-a'); // WEBHOOK_URLS, by the key's tenant id
  expect(byJob.get(b)!.path).toBe('/everyone'); // WEBHOOK_URL
  for (const [jobId, r] of byJob) {
    expect(r.verified).not.toBeInstanceOf(Error);
    expect(r.id).toBe(`msg_${jobId}_cancelled`);
    expect(JSON.parse(r.body)).toMatchObject({ type: 'job.cancelled', job_id: jobId, state: 'CANCELLED', num_generated: 0, num_inputs_to_generate: 5 });
  }
  expect(tenantOf(KEY_A)).not.toBe(KEY_A);
});

describe('the SSRF guard, without WEBHOOK_ALLOW_PRIVATE', () => {
  it('answers 422 at submit for a literal private address or a URL that is not http(s)', async () => {
    stack = await startStack({ env: { WEBHOOK_SECRET: SECRET } });
    for (const [url, reason] of [
      ['http://127.0.0.1:9/hook', /127\.0\.0\.1 is a loopback address \(127\.0\.0\.0\/8\): webhooks may not target .* unless WEBHOOK_ALLOW_PRIVATE=true/],
      ['http://[::1]:9/hook', /::1 is a loopback address/],
      ['http://[::ffff:127.0.0.1]:9/hook', /IPv4-mapped 127\.0\.0\.1/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://10.0.0.8/', /private/],
      ['http://[fe80::1]/', /link-local/],
      ['ftp://example.com/hook', /http:\/\/ or https:\/\//],
      [`https://example.com/${'x'.repeat(2000)}`, /^must be at most 2,000 characters$/],
    ] as const) {
      const { status, json } = await post({ ...request, num_inputs_to_generate: 3, webhook_url: url });
      expect({ url, status }).toEqual({ url, status: 422 });
      expect(json.detail[0].loc).toEqual(['body', 'webhook_url']);
      expect(json.detail[0].msg).toMatch(reason);
    }
    // A server without a secret sends no webhooks, and says so.
    const bare = await startStack();
    try {
      const res = await fetch(`${bare.url}/v1/data/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY_A },
        body: JSON.stringify({ ...request, num_inputs_to_generate: 3, webhook_url: 'https://example.com/hook' }),
      });
      expect(res.status).toBe(422);
      expect(((await res.json()) as any).detail[0].msg).toMatch(/WEBHOOK_SECRET is not set/);
    } finally {
      await bare.stop();
    }
  });

  it('refuses at delivery, for good and with the reason, a name that resolves to loopback and loopback defaults', async () => {
    receiver = await startReceiver(() => 200);
    stack = await startStack({
      provider: new SequenceProvider(),
      env: {
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_BASE_MS: '100',
        // Server defaults are the operator's: checked at delivery like any other target.
        WEBHOOK_URLS: JSON.stringify({ [KEY_A]: `http://[::1]:${receiver.port}/a`, [KEY_B]: `http://[::ffff:127.0.0.1]:${receiver.port}/b` }),
      },
    });
    const viaName = (await post({ ...request, num_inputs_to_generate: 3, webhook_url: `http://localhost:${receiver.port}/c` })).json.job_id as string;
    const viaKeyA = (await post({ ...request, num_inputs_to_generate: 3 }, KEY_A)).json.job_id as string;
    const viaKeyB = (await post({ ...request, num_inputs_to_generate: 3 }, KEY_B)).json.job_id as string;
    for (const id of [viaName, viaKeyA]) expect((await waitForJobEnd(stack, id)).state).toBe('DONE');
    await waitFor(async () => {
      const res = await fetch(`${stack!.url}/v1/data/generate/${viaKeyB}`, { headers: { 'x-api-key': KEY_B } });
      return ((await res.json()) as any).state === 'DONE';
    });

    const hint = 'webhooks may not target private, loopback, link-local or other non-public addresses unless WEBHOOK_ALLOW_PRIVATE=true';
    const expected: Array<[string, string]> = [
      [viaName, `refused: localhost resolves to 127.0.0.1, a loopback address (127.0.0.0/8): ${hint}`],
      [viaKeyA, `refused: ::1 is a loopback address (::1/128): ${hint}`],
      [viaKeyB, `refused: ::ffff:7f00:1 is a loopback address (IPv4-mapped 127.0.0.1 in 127.0.0.0/8): ${hint}`],
    ];
    for (const [jobId, reason] of expected) {
      const id = `msg_${jobId}_done`;
      const job = await failedDelivery(id);
      expect(job.failedReason).toBe(reason);
      expect(job.attemptsMade).toBe(1); // not retried
      expect((await stack.api.ctx.webhookQueue.getJobLogs(id)).logs).toEqual([`attempt 1: ${reason}`]);
    }
    expect(receiver.received).toHaveLength(0);
  });

  it('connects only to the address it checked, with the name as Host, and checks what the name resolves to', async () => {
    receiver = await startReceiver(() => 200);
    const data: WebhookJobData = {
      id: 'msg_rebinding_done',
      url: `http://hooks.invalid:${receiver.port}/x`, // .invalid never resolves: only the resolver given can answer it
      event: { type: 'job.done', job_id: 'rebinding', state: 'DONE', num_generated: 0, num_inputs_to_generate: 1, report: null as any, usage: null as any, links: null as any, timestamp: new Date().toISOString() },
    };
    let lookups = 0;
    const resolve = async () => {
      lookups++;
      return [{ address: '127.0.0.1', family: 4 }];
    };
    expect(await deliverWebhook(data, { secret: SECRET, allowPrivate: false, resolve })).toEqual({
      kind: 'refused',
      reason: expect.stringMatching(/^hooks\.invalid resolves to 127\.0\.0\.1, a loopback address/),
    });
    expect(receiver.received).toHaveLength(0);
    expect(await deliverWebhook(data, { secret: SECRET, allowPrivate: true, resolve })).toEqual({ kind: 'delivered', status: 200 });
    expect(lookups).toBe(2); // once per attempt
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.headers.host).toBe(`hooks.invalid:${receiver.port}`);
    expect(receiver.received[0]!.verified).not.toBeInstanceOf(Error);
    // 410 Gone stops the retries; a redirect is not followed.
    const gone = await startReceiver(() => 410);
    const moved = await startReceiver(() => 302);
    try {
      expect(await deliverWebhook({ ...data, url: `${gone.url}/` }, { secret: SECRET, allowPrivate: true })).toEqual({ kind: 'gone' });
      expect(await deliverWebhook({ ...data, url: `${moved.url}/` }, { secret: SECRET, allowPrivate: true })).toEqual({
        kind: 'failed',
        reason: expect.stringMatching(/^answered 302 .*redirects are not followed/),
      });
    } finally {
      await gone.close();
      await moved.close();
    }
  });
});
