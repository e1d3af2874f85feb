import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One command of the README may install the workspace from scratch.
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
