import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * llama.cpp's own server, built from the very llama.cpp release node-llama-cpp
 * ships (its git bundle), so both servers run the same inference code. Built
 * once into a cache outside the repository (minutes on 2 cores); bench only.
 */
/**
 * A dependency's directory. Its package.json cannot be resolved when its `exports` leave it
 * out (node-llama-cpp's do): resolve its entry point, then walk up to its package.json.
 */
function packageDirectory(name: string): string {
  const require = createRequire(import.meta.url);
  for (let dir = dirname(require.resolve(name)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === name)
      return dir;
  }
  throw new Error(`no package.json for ${name} above its entry point`);
}

export async function llamaServerBinary(log: (line: string) => void): Promise<string> {
  const cache = process.env.LLAMA_SERVER_CACHE ?? join(homedir(), '.cache', 'hrserve', 'llama.cpp');
  const binary = join(cache, 'build', 'bin', 'llama-server');
  if (existsSync(binary)) return binary;

  const bundle = join(packageDirectory('node-llama-cpp'), 'llama', 'gitRelease.bundle');
  log(`building llama-server from ${bundle} into ${cache} (once; takes minutes)`);
  if (!existsSync(join(cache, 'CMakeLists.txt')))
    await run('git', ['clone', '--quiet', bundle, cache]);
  await run('cmake', [
    '-S',
    cache,
    '-B',
    join(cache, 'build'),
    '-DCMAKE_BUILD_TYPE=Release',
    '-DGGML_NATIVE=ON',
    '-DLLAMA_CURL=OFF',
    '-DLLAMA_OPENSSL=OFF',
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DLLAMA_BUILD_EXAMPLES=OFF',
  ]);
  await run(
    'cmake',
    ['--build', join(cache, 'build'), '--target', 'llama-server', '-j', String(cpus().length)],
    {
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return binary;
}
