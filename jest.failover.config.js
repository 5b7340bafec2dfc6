/**
 * The Redis Cluster failover test alone (npm run test:failover): it kills a
 * master of the cluster REDIS_URL names, so `npm test` leaves it out.
 */
const base = require('./jest.config');

const api = base.projects.find((project) => project.displayName === 'apps/api');

module.exports = {
  ...base,
  projects: [{ ...api, testMatch: ['<rootDir>/test/failover.test.ts'], testPathIgnorePatterns: ['/node_modules/'] }],
};
