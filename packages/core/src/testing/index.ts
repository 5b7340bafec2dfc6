// Test doubles that speak the real protocols (the Anthropic and OpenAI HTTP
// APIs), for tests, the bench and the chaos run: `@datagen/core/testing`.
export * from './fakeAnthropic';
export * from './fakeHttp';
export * from './fakeOpenAI';
