import { AnthropicProvider, createProvider, loadConfig, OfflineGenerator } from '@datagen/core';
import { startFakeAnthropic, type FakeAnthropic } from '@datagen/core/testing';
import { startStack, submitJob, waitForJobEnd, type TestStack } from '../../../test/support/stack';

/**
 * Whole jobs through the real providers: the real Anthropic SDK over HTTP
 * against the local fake Messages API, and the offline generator.
 */
let stack: TestStack | undefined;
let fake: FakeAnthropic | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await fake?.close();
  fake = undefined;
});

async function runJob(body: Record<string, unknown>) {
  return waitForJobEnd(stack!, await submitJob(stack!, { application_description: "Write a children's story communicating a simple life lesson.", ...body }));
}

const anthropic = (url: string, apiKey = 'test-key') =>
  new AnthropicProvider({ apiKey, baseURL: url, model: 'claude-test', maxRetries: 2, timeoutMs: 5_000 });

it('runs a job on the Anthropic provider over HTTP, with structured output and usage', async () => {
  fake = await startFakeAnthropic({ apiKey: 'test-key', latencyMs: 20 });
  stack = await startStack({ provider: anthropic(fake.url) });
  const done = await runJob({ num_inputs_to_generate: 30, seeds: ['Tell me a story about a kind fox.'], batch_size: 10 });
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(30);
  expect(new Set(done.data).size).toBe(30);
  const first = fake.requests[0]!;
  expect(first.body).toMatchObject({ model: 'claude-test', tool_choice: { type: 'tool', name: 'submit_inputs' } });
  expect(JSON.stringify(first.body.system)).toContain('simple life lesson');
  expect(first.prompt).toContain('Tell me a story about a kind fox.');
  expect(done.usage.llm_calls).toBe(fake.stats.messages);
  expect(done.usage.output_tokens).toBeGreaterThan(0);
  expect(done.detailed_status.join('\n')).toContain('anthropic (claude-test)');
});

it('retries rate limits, overloads and unusable answers, and still ends with exactly N', async () => {
  fake = await startFakeAnthropic({
    faults: ['rate_limit', 'overloaded', 'refusal', 'numbered_text', 'truncated', 'empty_tool_input', 'server_error'],
  });
  stack = await startStack({ provider: anthropic(fake.url), env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
  const done = await runJob({ num_inputs_to_generate: 25, seeds: ['Tell me a story about a kind fox.'] });
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(25);
  expect(new Set(done.data).size).toBe(25);
  const messages = done.detailed_status.join('\n');
  expect(messages).toMatch(/unusable answer \(the model refused to write inputs\); retrying/);
  expect(fake.stats.faults.rate_limit + fake.stats.faults.overloaded).toBe(2);
});

it('ends ERROR at once, with a message for the operator, when the API rejects the key', async () => {
  fake = await startFakeAnthropic({ apiKey: 'the-right-key' });
  stack = await startStack({ provider: anthropic(fake.url, 'a-wrong-key') });
  const ended = await runJob({ num_inputs_to_generate: 10, seeds: ['Tell me a story about a kind fox.'] });
  expect(ended.state).toBe('ERROR');
  expect(ended.data).toEqual([]);
  expect(ended.detailed_status.at(-1)).toMatch(/ANTHROPIC_API_KEY/);
  expect(fake.stats.calls).toBeLessThanOrEqual(2); // no retry storm for a bad key
});

it('runs a seedless job on Anthropic: first seeds, then the inputs', async () => {
  fake = await startFakeAnthropic();
  stack = await startStack({ provider: anthropic(fake.url) });
  const done = await runJob({ num_inputs_to_generate: 8, seeds: [] });
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(8);
  // themes first, then the first seeds, spread over those themes, then the batches
  expect(fake.requests[0]!.prompt).toMatch(/Write 8 distinct themes/);
  expect(fake.requests[1]!.prompt).toMatch(/No example inputs exist yet for this application\.\nSpread them over these themes: /);
  expect(done.detailed_status.some((m: string) => m.startsWith('No seeds were given'))).toBe(true);
});

it('runs a job on the offline generator, which says it is not an LLM', async () => {
  stack = await startStack({ provider: new OfflineGenerator() });
  const done = await runJob({
    num_inputs_to_generate: 40,
    exploration_mode: 'CREATIVE',
    seeds: ['Write a story about a brave little turtle who learns to share.', 'Tell me a bedtime story about a dragon who is afraid of the dark.'],
  });
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(40);
  expect(done.detailed_status.join('\n')).toMatch(/without an LLM/);
});

it('chooses the provider from the configuration', () => {
  expect(createProvider(loadConfig({}).llm)).toBeInstanceOf(OfflineGenerator);
  expect(createProvider(loadConfig({ ANTHROPIC_API_KEY: 'k' }).llm)).toBeInstanceOf(AnthropicProvider);
});

describe('themes and the critic over HTTP', () => {
  const isCritique = (prompt: string) => prompt.includes('Judge these candidate inputs');

  it('the critic’s bad verdicts are counted in the report and the inputs are not kept', async () => {
    fake = await startFakeAnthropic({
      // the first input of every critique is judged bad
      respond: (request) => (isCritique(request.prompt) ? Array.from({ length: request.count }, (_, i) => (i === 0 ? 'bad: off task' : 'good')) : undefined),
    });
    stack = await startStack({ provider: anthropic(fake.url), env: { JOB_MAX_PARALLEL_BATCHES: '1' } });
    const done = await runJob({ num_inputs_to_generate: 12, seeds: ['Tell me a story about a kind fox.'], batch_size: 4 });
    expect(done.state).toBe('DONE');
    expect(done.data).toHaveLength(12);
    expect(done.report.rejected.bad).toBeGreaterThanOrEqual(4);
    expect(done.detailed_status.join('\n')).toMatch(/judged bad by the critic .*Bad: off task\./);
    expect(done.detailed_status[1]).toMatch(/critic on/);
    const themes = fake.requests.filter((r) => /distinct themes/.test(r.prompt));
    expect(themes).toHaveLength(1);
    expect(done.detailed_status.some((m: string) => /^Themes \(\d+\): /.test(m))).toBe(true);
    expect(fake.requests.filter((r) => r.prompt.includes('Theme for this batch:')).length).toBeGreaterThan(0);
  });

  it.each([
    ['malformed JSON text', () => ({ type: 'text' as const, text: '{"inputs": ["good", "go' })],
    ['a refusal', () => ({ type: 'text' as const, text: "I'm sorry, but I can't judge these." })],
    ['too few verdicts', () => ['good']],
    ['a server error', () => ({ type: 'error' as const, status: 500, errorType: 'api_error', message: 'critic down' })],
  ])('a critic answering %s loses no good input: the batch is kept unjudged', async (_name, answer) => {
    fake = await startFakeAnthropic({ respond: (request) => (isCritique(request.prompt) ? answer() : undefined) });
    stack = await startStack({ provider: anthropic(fake.url), env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
    const done = await runJob({ num_inputs_to_generate: 10, seeds: ['Tell me a story about a kind fox.'] });
    expect(done.state).toBe('DONE');
    expect(done.data).toHaveLength(10);
    expect(done.detailed_status.join('\n')).toMatch(/The critic could not judge it \(.+\); its inputs were kept unjudged\./);
  });

  it('CRITIC_ENABLED=false makes no critique calls, and the job says so', async () => {
    fake = await startFakeAnthropic();
    stack = await startStack({ provider: anthropic(fake.url), env: { CRITIC_ENABLED: 'false' } });
    const done = await runJob({ num_inputs_to_generate: 6, seeds: ['Tell me a story about a kind fox.'] });
    expect(done.state).toBe('DONE');
    expect(fake.requests.some((r) => isCritique(r.prompt))).toBe(false);
    expect(done.detailed_status[1]).toMatch(/critic off\.$/);
  });
});
