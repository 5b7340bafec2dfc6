import { buildBatchPrompt, buildSystemPrompt, MODE_SETTINGS, type GenerateBatchRequest } from '@datagen/core';

/** What the LLM provider tests (Anthropic, OpenAI-compatible) ask their fake servers. */
export const APPLICATION = 'A customer-support assistant for a home internet provider.';
export const SHOTS = ['How do I reset my router?', 'My bill doubled this month, why?'];

export function batchRequest(count = 3, extra: Partial<GenerateBatchRequest> = {}): GenerateBatchRequest {
  return {
    system: buildSystemPrompt(APPLICATION, MODE_SETTINGS.BALANCED),
    prompt: buildBatchPrompt(SHOTS, count),
    count,
    temperature: 0.8,
    context: { applicationDescription: APPLICATION, shots: SHOTS, seeds: SHOTS, explorationMode: 'BALANCED', batchNumber: 1 },
    ...extra,
  };
}

/** The settled error of a call that must fail. */
export async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('the call succeeded but should have failed');
}

/** `start` for this test file's fake LLM servers: each one started is closed after its test. */
export function fakeServers<Options, Server extends { close(): Promise<void> }>(
  startServer: (options: Options) => Promise<Server>,
): (options?: Options) => Promise<Server> {
  const started: Server[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((server) => server.close()));
  });
  return async (options = {} as Options) => {
    const server = await startServer(options);
    started.push(server);
    return server;
  };
}
