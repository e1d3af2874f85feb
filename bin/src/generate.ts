import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readManifests } from './manifest.js';
import { renderPortsEnv, renderPortsJson } from './render-ports.js';
import { renderGpuDropIn, renderUnit } from './render-unit.js';

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

/** Generated files in `outputDir` now: units, GPU drop-ins, ports.json and ports.env (other files are not ours). */
async function existingOutputs(outputDir: string): Promise<Map<string, string>> {
  const existing = new Map<string, string>();
  let names: string[] = [];
  try {
    names = await readdir(outputDir);
  } catch {
    return existing;
  }
  for (const name of names.sort()) {
    if (
      name.endsWith('.service') ||
      name.endsWith('.gpu.conf') ||
      name === 'ports.json' ||
      name === 'ports.env'
    ) {
      existing.set(name, await readFile(join(outputDir, name), 'utf8'));
    }
  }
  return existing;
}

/** What differs between the committed output and a fresh generation: stale, missing and extra files. */
export async function staleOutputs(
  rendered: Map<string, string>,
  outputDir: string,
): Promise<string[]> {
  const existing = await existingOutputs(outputDir);
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
): Promise<string[]> {
  const written: string[] = [];
  for (const [name, content] of rendered) {
    await writeFile(join(outputDir, name), content);
    written.push(name);
  }
  for (const name of (await existingOutputs(outputDir)).keys()) {
    if (!rendered.has(name)) await rm(join(outputDir, name));
  }
  return written;
}
