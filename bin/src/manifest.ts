import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/** systemd memory sizes: a number with a K, M, G or T suffix (base 1024), e.g. 3G. */
const memorySize = z.string().regex(/^[1-9][0-9]*[KMGT]$/, 'expected a size like 512M or 3G');

/** Environment variable names as the shell and systemd accept them. */
const variableName = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an upper-case variable name');

/**
 * A service's manifest: the `hrserve` block of its package.json, the one place
 * that says how the service is run. The units, the port table and the
 * justfile's recipes are all derived from it.
 */
export const manifestSchema = z
  .object({
    port: z
      .int()
      .min(1024, 'expected a port from 1024 to 65535 (unprivileged)')
      .max(65535, 'expected a port from 1024 to 65535'),
    description: z.string().min(1).max(200).describe('One line shown by systemctl status.'),
    entry: z
      .string()
      .regex(/^[\w./-]+\.js$/, 'expected a path to a built .js file, relative to the service')
      .default('dist/main.js')
      .describe('The built entry point.'),
    preload: z
      .string()
      .regex(/^[\w./-]+\.js$/, 'expected a path to a built .js file, relative to the service')
      .default('dist/telemetry.js')
      .describe('Loaded with node --import before the entry, so telemetry instruments http.'),
    environment: z
      .record(
        variableName,
        z.string().regex(/^[^\n"\\]*$/, 'expected one line without quotes or backslashes'),
      )
      .default({})
      .describe('Environment with defaults; local overrides go in the EnvironmentFile.'),
    memory: z
      .object({ high: memorySize, max: memorySize })
      .describe('MemoryHigh (throttled above) and MemoryMax (killed above).'),
    gpu: z.boolean().default(false).describe('Whether it may use a GPU (keeps /dev visible).'),
    state: z
      .boolean()
      .default(false)
      .describe(
        'Whether it keeps durable state in ~/.local/share/hrserve/<service> (DATA_DIR, writable by the unit).',
      ),
    restart: z.enum(['on-failure', 'always', 'no']).default('on-failure'),
  })
  .strict();

export type Manifest = z.infer<typeof manifestSchema>;

export interface ServiceManifest extends Manifest {
  /** The package name, which is also the unit's name. */
  name: string;
  /** The service's folder, relative to the repository root, e.g. `services/llmchat`. */
  directory: string;
}

const serviceName = /^[a-z][a-z0-9-]{0,62}$/;

export class ManifestError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid service manifests:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ManifestError';
  }
}

const sizeInBytes = (size: string) =>
  Number(size.slice(0, -1)) * 1024 ** ('KMGT'.indexOf(size.slice(-1)) + 1);

/**
 * Reads the manifest of every service under `servicesDir` (each folder with a
 * package.json that has an `hrserve` block), sorted by name. Every problem in
 * every manifest is reported at once, named by service and field.
 */
export async function readManifests(
  root: string,
  servicesDir = 'services',
): Promise<ServiceManifest[]> {
  const problems: string[] = [];
  const manifests: ServiceManifest[] = [];
  const folders = (await readdir(join(root, servicesDir), { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  for (const folder of folders) {
    const directory = `${servicesDir}/${folder}`;
    let packageJson: { name?: unknown; hrserve?: unknown };
    try {
      packageJson = JSON.parse(await readFile(join(root, directory, 'package.json'), 'utf8'));
    } catch {
      continue; // not a package
    }
    const name = String(packageJson.name ?? folder);
    if (packageJson.hrserve === undefined) {
      problems.push(
        `${directory}/package.json has no "hrserve" block: add one (port, description, memory).`,
      );
      continue;
    }
    if (!serviceName.test(name)) {
      problems.push(
        `${directory}: package name "${name}" must be lower-case letters, digits and dashes (it names the unit).`,
      );
      continue;
    }
    const parsed = manifestSchema.safeParse(packageJson.hrserve);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        problems.push(`${name}: hrserve.${issue.path.join('.') || '(block)'}: ${issue.message}`);
      }
      continue;
    }
    if (sizeInBytes(parsed.data.memory.high) > sizeInBytes(parsed.data.memory.max)) {
      problems.push(
        `${name}: hrserve.memory.high (${parsed.data.memory.high}) must not exceed memory.max (${parsed.data.memory.max}).`,
      );
    }
    manifests.push({ ...parsed.data, name, directory });
  }
  const byPort = new Map<number, string>();
  for (const manifest of manifests) {
    const other = byPort.get(manifest.port);
    if (other)
      problems.push(
        `port ${manifest.port} is claimed by both ${other} and ${manifest.name}: give one of them another port.`,
      );
    else byPort.set(manifest.port, manifest.name);
  }
  if (problems.length > 0) throw new ManifestError(problems);
  return manifests.sort((a, b) => a.name.localeCompare(b.name));
}
