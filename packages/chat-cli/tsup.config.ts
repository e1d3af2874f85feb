import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { main: 'src/main.ts' },
  format: ['esm'],
  target: 'node24',
  sourcemap: true,
  clean: true,
  // Runs as the `hrchat` binary.
  banner: { js: '#!/usr/bin/env node' },
});
