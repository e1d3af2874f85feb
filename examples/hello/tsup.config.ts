import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/main.ts', 'src/telemetry.ts'],
  format: ['esm'],
  target: 'node24',
  sourcemap: true,
  clean: true,
});
