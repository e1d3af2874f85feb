import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 20_000,
    // Files and batches go to a throwaway directory, never the user's ~/.local/share.
    env: { XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'embed-test-data-')) },
  },
});
