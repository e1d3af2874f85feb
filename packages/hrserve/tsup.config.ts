import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/telemetry/index.ts', 'src/dev-settings.ts'],
  format: ['esm'],
  target: 'node24',
  sourcemap: true,
  clean: true,
  // Shared chunks keep one copy of each module across the entry points.
  splitting: true,
});
