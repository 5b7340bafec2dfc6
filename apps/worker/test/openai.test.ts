import { createProvider, loadConfig } from '@datagen/core';
import { startFakeOpenAI, type FakeOpenAI, type FakeOpenAIOptions } from '@datagen/core/testing';
import { startStack, submitJob, waitForJobEnd, type TestStack } from '../../../test/support/stack';

/**
 * Whole jobs on LLM_PROVIDER=openai: the provider built from the environment
 * as the worker builds it, the real `openai` SDK over HTTP against the local
 * fake chat-completions server.
 */
let stack: TestStack | undefined;
let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await fake?.close();
  fake = undefined;
});

async function stackOn(options: FakeOpenAIOptions) {
  fake = await startFakeOpenAI({ apiKey: null, latencyMs: 10, ...options });
  const config = loadConfig({ LLM_PROVIDER: 'openai', OPENAI_BASE_URL: fake.url, OPENAI_MODEL: 'llama3.1', OPENAI_MAX_RETRIES: '1' });
  stack = await startStack({ provider: createProvider(config.llm) });
}

async function runJob(body: Record<string, unknown>) {
  return waitForJobEnd(stack!, await submitJob(stack!, { application_description: 'A customer-support assistant for a home internet provider.', ...body }));
}

it('runs a job to exactly N through forced function calls, with usage and the temperature of the mode', async () => {
  await stackOn({});
  const done = await runJob({ num_inputs_to_generate: 20, seeds: ['How do I reset my router?'], batch_size: 5, exploration_mode: 'CONSERVATIVE' });
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(20);
  expect(new Set(done.data).size).toBe(20);
  expect(done.usage.output_tokens).toBeGreaterThan(0);
  expect(done.detailed_status.join('\n')).toContain('openai-compatible (llama3.1');
  const first = fake!.requests[0]!;
  expect(first.body).toMatchObject({ model: 'llama3.1', tool_choice: { type: 'function', function: { name: 'submit_inputs' } } });
  expect(first.body.temperature).toBeGreaterThanOrEqual(0.5);
  expect(first.body.temperature).toBeLessThanOrEqual(0.7);
});

it('runs a job on a model that takes no tools (as many Ollama models), from its text answers', async () => {
  await stackOn({ refuseTools: true });
  const done = await runJob({ num_inputs_to_generate: 12, seeds: ['How do I reset my router?'] });
  expect(done.state).toBe('DONE');
  expect(done.data).toHaveLength(12);
  expect(fake!.requests.filter((r) => 'tools' in r.body).length).toBeLessThanOrEqual(4); // one refused try per parallel batch at most
});

it('ends the job ERROR with the operator hint when the model is unknown', async () => {
  await stackOn({ models: ['another-model'] });
  const done = await runJob({ num_inputs_to_generate: 5, seeds: ['How do I reset my router?'] });
  expect(done.state).toBe('ERROR');
  expect(done.detailed_status.join('\n')).toMatch(/OPENAI_MODEL/);
});
