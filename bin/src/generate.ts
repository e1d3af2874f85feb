import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifests } from './manifest.js';
import { renderOtelcolConfig } from './render-otelcol-config.js';
import { OTELCOL_UNIT, renderOtelcolUnit } from './render-otelcol-unit.js';
import { renderPortsEnv, renderPortsJson } from './render-ports.js';
import { renderGpuDropIn, renderUnit } from './render-unit.js';

/** Which files of an output folder the generator owns (others there are left alone). */
export type IsGenerated = (name: string) => boolean;

/** In systemd/: units, GPU drop-ins, ports.json and ports.env. */
export const isServiceOutput: IsGenerated = (name) =>
  name.endsWith('.service') ||
  name.endsWith('.gpu.conf') ||
  name === 'ports.json' ||
  name === 'ports.env';

/** In otelcol/: every file. */
export const isOtelcolOutput: IsGenerated = () => true;

/** Every generated file, path relative to the output folder → content. */
export async function renderAll(
  root: string,
  servicesDir = 'services',
): Promise<Map<string, string>> {
  const manifests = await readManifests(root, servicesDir);
  const files = new Map<string, string>();
  for (const manifest of manifests) {
    files.set(`${manifest.name}.service`, renderUnit(manifest));
    if (manifest.gpu) files.set(`${manifest.name}.gpu.conf`, renderGpuDropIn(manifest));
  }
  files.set('ports.json', renderPortsJson(manifests));
  files.set('ports.env', renderPortsEnv(manifests));
  return files;
}

/** The OpenTelemetry Collector's config and unit, for otelcol/ (render-otelcol-unit.ts says why not systemd/). */
export function renderOtelcolFiles(): Map<string, string> {
  return new Map([
    [`${OTELCOL_UNIT}.service`, renderOtelcolUnit()],
    [`${OTELCOL_UNIT}.yaml`, renderOtelcolConfig()],
  ]);
}

/** Generated files in `outputDir` now (other files are not ours). */
async function existingOutputs(
  outputDir: string,
  isGenerated: IsGenerated,
): Promise<Map<string, string>> {
  const existing = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(outputDir);
  } catch {
    return existing;
  }
  for (const name of names.sort()) {
    if (isGenerated(name)) existing.set(name, await readFile(join(outputDir, name), 'utf8'));
  }
  return existing;
}

/** What differs between the committed output and a fresh generation: stale, missing and extra files. */
export async function staleOutputs(
  rendered: Map<string, string>,
  outputDir: string,
  isGenerated: IsGenerated = isServiceOutput,
): Promise<string[]> {
  const existing = await existingOutputs(outputDir, isGenerated);
  const problems: string[] = [];
  for (const [name, content] of rendered) {
    const current = existing.get(name);
    if (current === undefined) problems.push(`${name} is missing`);
    else if (current !== content) problems.push(`${name} is out of date`);
  }
  for (const name of existing.keys()) {
    if (!rendered.has(name)) problems.push(`${name} belongs to no service any more`);
  }
  return problems;
}

/** Writes the generated files and removes units of services that are gone. */
export async function writeOutputs(
  rendered: Map<string, string>,
  outputDir: string,
  isGenerated: IsGenerated = isServiceOutput,
): Promise<string[]> {
  await mkdir(outputDir, { recursive: true });
  const written: string[] = [];
  for (const [name, content] of rendered) {
    await writeFile(join(outputDir, name), content);
    written.push(name);
  }
  for (const name of (await existingOutputs(outputDir, isGenerated)).keys()) {
    if (!rendered.has(name)) await rm(join(outputDir, name));
  }
  return written;
}
