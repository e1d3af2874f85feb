import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { main: 'src/main.ts', telemetry: 'src/telemetry.ts' },
  format: ['esm'],
  target: 'node24',
  sourcemap: true,
  // vite build writes the browser app to dist/web first; tsup must not wipe it.
  clean: false,
});
