import { fileURLToPath } from 'node:url';
import { type SpawnedService, spawnService } from '@hrserve/test-support';

const HELLO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The built hello service in a child process, as its unit would run it. */
export function spawnHello(env: Record<string, string> = {}): Promise<SpawnedService> {
  return spawnService({ cwd: HELLO_ROOT, env });
}
