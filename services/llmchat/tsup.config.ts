import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    main: 'src/main.ts',
    telemetry: 'src/telemetry.ts',
    bench: 'src/bench/main.ts',
    'bench-llama-server': 'src/bench/vs-llama-server.ts',
    'bench-threads': 'src/bench/threads.ts',
    'bench-responses': 'src/bench/responses.ts',
    'bench-decisions': 'src/bench/decisions.ts',
    'bench-choices': 'src/bench/choices.ts',
    'bench-batches': 'src/bench/batches.ts',
    'gpu-check': 'src/gpu-check.ts',
  },
  format: ['esm'],
  target: 'node24',
  sourcemap: true,
  clean: true,
});
