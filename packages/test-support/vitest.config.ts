import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    // Starting PostgreSQL (initdb) takes a few seconds on a slow machine.
    hookTimeout: 60_000,
  },
});
