import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway repository with one services/<name>/package.json per entry (an `hrserve` block, or none). */
export async function writeRepo(services: Record<string, unknown>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'hrserve-manifests-'));
  for (const [name, hrserve] of Object.entries(services)) {
    await mkdir(join(root, 'services', name), { recursive: true });
    const packageJson = hrserve === undefined ? { name } : { name, hrserve };
    await writeFile(join(root, 'services', name, 'package.json'), JSON.stringify(packageJson));
  }
  return root;
}

export const validManifest = {
  port: 2101,
  description: 'A demo service',
  environment: { DEMO_MODE: 'fast', DRAIN_TIMEOUT_MS: '10000' },
  memory: { high: '512M', max: '1G' },
};
