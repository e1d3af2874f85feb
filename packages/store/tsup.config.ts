import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  target: 'node24',
  sourcemap: true,
  clean: true,
  // node:sqlite exists only with its prefix: tsup's default strips it ("sqlite" is not a module).
  removeNodeProtocol: false,
});
