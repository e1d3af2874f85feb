import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The browser app: web/ → dist/web, served by the console's server (src/web-app.ts). */
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('./dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // The figures in the README come from this: what a browser downloads, gzipped.
    reportCompressedSize: true,
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
});
