import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // A block may hold several commands, each bounded by run-command's own timeout.
    testTimeout: 1_800_000,
    hookTimeout: 120_000,
  },
});
