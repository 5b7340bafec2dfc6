/** One jest run over every workspace; each project compiles its TypeScript with ts-jest. */
const project = (dir) => ({
  displayName: dir,
  rootDir: `<rootDir>/${dir}`,
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  // Run on their own, never in `npm test`: the failover test kills a node of
  // a Redis Cluster (npm run test:failover, jest.failover.config.js).
  testPathIgnorePatterns: ['/node_modules/', '/test/failover\\.test\\.ts$'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/../../tsconfig.test.json' }] },
  moduleNameMapper: {
    '^@datagen/core$': '<rootDir>/../../packages/core/src',
    '^@datagen/core/testing$': '<rootDir>/../../packages/core/src/testing',
  },
  testEnvironment: 'node',
});

module.exports = {
  rootDir: __dirname,
  projects: ['packages/core', 'apps/api', 'apps/worker', 'apps/cli', 'apps/console'].map(project),
  globalSetup: '<rootDir>/test/globalSetup.js',
  globalTeardown: '<rootDir>/test/globalTeardown.js',
  testTimeout: 30_000,
};
