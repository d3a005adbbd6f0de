/**
 * One jest run for the whole workspace. Tests import the packages by name, as users do, from
 * their built `dist` (the root `test` script builds first): worker threads and child processes
 * run compiled JavaScript, so testing the same build keeps both sides of the wire in step.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/packages'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.test.json' }],
  },
  // Sources import siblings as './x.js' (Node's ESM-style paths); under ts-jest they are './x.ts'.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 30000,
  // A Redis server for the tests of the 'bullmq' context, started once for the run.
  globalSetup: '<rootDir>/test/redis/global-setup.ts',
  globalTeardown: '<rootDir>/test/redis/global-teardown.ts',
};
