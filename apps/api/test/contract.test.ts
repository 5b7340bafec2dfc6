import PiClient from 'withpi';
import { KEY_A, KEY_B, startStack, waitFor, type TestStack } from '../../../test/support/stack';
import { SequenceProvider } from '../../../test/support/providers';

/**
 * The official withpi SDK, unchanged, pointed at our server the way a user
 * would: PI_CLIENT_BASE_URL=http://HOST:PORT/v1 and WITHPI_API_KEY.
 */
let stack: TestStack;
let client: PiClient;
let other: PiClient;

beforeAll(async () => {
  stack = await startStack({ provider: new SequenceProvider({ latencyMs: 20 }) });
  process.env.PI_CLIENT_BASE_URL = `${stack.url}/v1`;
  process.env.WITHPI_API_KEY = KEY_A;
  client = new PiClient({ maxRetries: 0 });
  other = new PiClient({ apiKey: KEY_B, maxRetries: 0 });
});
afterAll(async () => {
  delete process.env.PI_CLIENT_BASE_URL;
  delete process.env.WITHPI_API_KEY;
  await stack.stop();
});

const body = {
  application_description: "Write a children's story communicating a simple life lesson.",
  num_inputs_to_generate: 12,
  seeds: ['The quick brown fox jumped over the lazy dog', 'The lazy dog was jumped over by the quick brown fox'],
};

it('starts, follows, streams and lists a job through the SDK', async () => {
  const started = await client.data.generate.startJob({ ...body, batch_size: 4, num_shots: 2, exploration_mode: 'CONSERVATIVE' });
  expect(started.state).toBe('QUEUED');
  expect(typeof started.job_id).toBe('string');

  const streamed = await client.data.generate.streamData(started.job_id);
  const lines = streamed.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as string);
  expect(lines).toHaveLength(12);

  const done = await waitFor(async () => {
    const s = await client.data.generate.retrieve(started.job_id);
    return s.state === 'DONE' ? s : null;
  });
  expect(done.data).toEqual(lines);
  expect(done.detailed_status.length).toBeGreaterThan(2);

  const messages = (await client.data.generate.streamMessages(started.job_id)).split('\n').filter((l) => l !== '');
  expect(messages.at(-1)).toBe('DONE');

  const listed = await client.data.generate.list({ state: 'DONE' });
  expect(listed.map((s) => s.job_id)).toContain(started.job_id);
  expect((await client.data.generate.list({ state: 'QUEUED' })).map((s) => s.job_id)).not.toContain(started.job_id);
  expect((await other.data.generate.list()).map((s) => s.job_id)).not.toContain(started.job_id);
});

it('cancels through the SDK and answers a JSON string', async () => {
  const started = await client.data.generate.startJob({ ...body, num_inputs_to_generate: 5000, batch_size: 1 });
  const answer = await client.data.generate.cancel(started.job_id);
  expect(typeof answer).toBe('string');
  const ended = await waitFor(async () => {
    const s = await client.data.generate.retrieve(started.job_id);
    return s.state === 'CANCELLED' ? s : null;
  });
  expect(ended.data!.length).toBeLessThan(5000);
});

it('surfaces validation, auth and not-found errors as the SDK’s error classes', async () => {
  const invalid = client.data.generate.startJob({ ...body, batch_size: 11 });
  await expect(invalid).rejects.toBeInstanceOf(PiClient.UnprocessableEntityError);
  await expect(invalid).rejects.toMatchObject({ status: 422, error: { detail: [expect.objectContaining({ loc: ['body', 'batch_size'] })] } });

  const badKey = new PiClient({ apiKey: 'not-a-key', maxRetries: 0 });
  await expect(badKey.data.generate.list()).rejects.toBeInstanceOf(PiClient.AuthenticationError);

  const mine = await client.data.generate.startJob({ ...body, num_inputs_to_generate: 2 });
  await expect(other.data.generate.retrieve(mine.job_id)).rejects.toBeInstanceOf(PiClient.NotFoundError);
  await expect(other.data.generate.cancel(mine.job_id)).rejects.toBeInstanceOf(PiClient.NotFoundError);
  await expect(other.data.generate.streamData(mine.job_id)).rejects.toBeInstanceOf(PiClient.NotFoundError);
  await expect(client.data.generate.retrieve('no-such-job')).rejects.toBeInstanceOf(PiClient.NotFoundError);
});
