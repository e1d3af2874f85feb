import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validManifest, writeRepo } from './__fixtures__/write-repo.js';
import { renderAll, staleOutputs, writeOutputs } from './generate.js';
import { readManifests } from './manifest.js';

const GOLDEN = fileURLToPath(new URL('./__fixtures__/golden/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('generated units and port table', () => {
  it('match the golden files for a fixture service', async () => {
    const rendered = await renderAll(await writeRepo({ demo: { ...validManifest, gpu: false } }));
    expect([...rendered.keys()]).toEqual(['demo.service', 'ports.json', 'ports.env']);
    for (const [name, content] of rendered) {
      expect(content).toBe(await readFile(join(GOLDEN, name), 'utf8'));
    }
  });

  it('are deterministic', async () => {
    const root = await writeRepo({ b: { ...validManifest, port: 2200 }, a: validManifest });
    const first = await renderAll(root);
    const second = await renderAll(root);
    expect([...first.entries()]).toEqual([...second.entries()]);
  });

  it('give a stop timeout above the drain timeout and telemetry flush', async () => {
    const unit =
      (await renderAll(await writeRepo({ demo: validManifest }))).get('demo.service') ?? '';
    // DRAIN_TIMEOUT_MS=10000 from the manifest + 2000 telemetry bound + 5 s margin
    expect(unit).toContain('TimeoutStopSec=17');
  });

  it('--check finds stale, missing and orphaned files', async () => {
    const root = await writeRepo({ demo: validManifest });
    const outputDir = join(root, 'systemd');
    await mkdir(outputDir);
    const rendered = await renderAll(root);
    expect(await staleOutputs(rendered, outputDir)).toEqual([
      'demo.service is missing',
      'ports.json is missing',
      'ports.env is missing',
    ]);
    await writeOutputs(rendered, outputDir);
    expect(await staleOutputs(rendered, outputDir)).toEqual([]);
    await writeFile(join(outputDir, 'ports.json'), '{}\n');
    await writeFile(join(outputDir, 'gone.service'), '[Unit]\n');
    expect(await staleOutputs(rendered, outputDir)).toEqual([
      'ports.json is out of date',
      'gone.service belongs to no service any more',
    ]);
  });

  it('are committed up to date for this repository, with a port table matching the manifests', async () => {
    expect(await staleOutputs(await renderAll(REPO), join(REPO, 'systemd'))).toEqual([]);
    const ports = JSON.parse(await readFile(join(REPO, 'systemd/ports.json'), 'utf8'));
    const manifests = await readManifests(REPO);
    expect(ports).toEqual(
      Object.fromEntries(manifests.map((manifest) => [manifest.name, manifest.port])),
    );
    expect(ports.llmchat).toBe(2020);
  });
});
