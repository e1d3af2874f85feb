import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts'],
    // Browser tests against model-serving processes: a minute each at most.
    testTimeout: 60_000,
  },
});
