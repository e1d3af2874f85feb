import { describe, expect, it } from 'vitest';
import { validManifest, writeRepo } from './__fixtures__/write-repo.js';
import { ManifestError, readManifests } from './manifest.js';

async function problemsOf(services: Record<string, unknown>): Promise<string[]> {
  try {
    await readManifests(await writeRepo(services));
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  return [];
}

describe('service manifests', () => {
  it('read with defaults filled in, sorted by name', async () => {
    const manifests = await readManifests(
      await writeRepo({ zeta: { ...validManifest, port: 2102 }, alpha: validManifest }),
    );
    expect(manifests.map((manifest) => manifest.name)).toEqual(['alpha', 'zeta']);
    expect(manifests[0]).toMatchObject({
      directory: 'services/alpha',
      entry: 'dist/main.js',
      preload: 'dist/telemetry.js',
      gpu: false,
      restart: 'on-failure',
    });
  });

  it('refuse a port claimed twice, naming both services', async () => {
    expect(await problemsOf({ one: validManifest, two: validManifest })).toEqual([
      'port 2101 is claimed by both one and two: give one of them another port.',
    ]);
  });

  it('list every bad value at once, by service and field', async () => {
    const problems = await problemsOf({
      bad: {
        port: 80,
        description: '',
        memory: { high: '2G', max: 'lots' },
        environment: { 'lower-case': 'x', OK: 'with "quotes"' },
        restart: 'sometimes',
        surprise: true,
      },
      unbalanced: { ...validManifest, port: 2103, memory: { high: '2G', max: '1G' } },
      missing: undefined,
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^bad: hrserve\.port: expected a port from 1024 to 65535/),
        expect.stringMatching(/^bad: hrserve\.description:/),
        expect.stringMatching(/^bad: hrserve\.memory\.max: expected a size like 512M or 3G/),
        expect.stringMatching(/^bad: hrserve\.environment\.lower-case:/),
        expect.stringMatching(/^bad: hrserve\.environment\.OK: expected one line without quotes/),
        expect.stringMatching(/^bad: hrserve\.restart:/),
        expect.stringMatching(/^bad: hrserve\.\(block\): .*surprise/),
        'unbalanced: hrserve.memory.high (2G) must not exceed memory.max (1G).',
        'services/missing/package.json has no "hrserve" block: add one (port, description, memory).',
      ]),
    );
  });
});
