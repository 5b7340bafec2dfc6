// Test doubles that speak the real protocols (the Anthropic and OpenAI HTTP
// APIs), for tests, the bench and the chaos run: `@datagen/core/testing`.
export * from './fakeAnthropic';
export * from './fakeBatchClock';
export * from './fakeHttp';
export * from './fakeOpenAI';
// The eval's applications, as fixtures for the bench (apps may not import eval/).
export { EVAL_APPLICATIONS, type EvalApplication } from '../eval/applications';
