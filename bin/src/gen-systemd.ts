/**
 * Generates the systemd user units and the port table from every service's
 * manifest (the `hrserve` block of services/<name>/package.json), and the
 * OpenTelemetry Collector's config and unit (otelcol/).
 *
 *   pnpm gen            write systemd/<service>.service, systemd/ports.json, systemd/ports.env, otelcol/*
 *   pnpm gen --check    exit 1 if the committed files differ from what the manifests give
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type IsGenerated,
  isOtelcolOutput,
  isServiceOutput,
  renderAll,
  renderOtelcolFiles,
  staleOutputs,
  writeOutputs,
} from './generate.js';
import { ManifestError } from './manifest.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

try {
  const targets: Array<{
    folder: string;
    rendered: Map<string, string>;
    isGenerated: IsGenerated;
  }> = [
    { folder: 'systemd', rendered: await renderAll(root), isGenerated: isServiceOutput },
    { folder: 'otelcol', rendered: renderOtelcolFiles(), isGenerated: isOtelcolOutput },
  ];
  if (values.check) {
    const problems: string[] = [];
    for (const { folder, rendered, isGenerated } of targets) {
      const stale = await staleOutputs(rendered, `${root}${folder}`, isGenerated);
      problems.push(...stale.map((problem) => `${folder}/${problem}`));
    }
    if (problems.length > 0) {
      process.stderr.write(
        `systemd/ and otelcol/ do not match what bin/ generates:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nRun \`pnpm gen\` (or \`just gen\`) and commit the result.\n`,
      );
      process.exit(1);
    }
    const count = targets.reduce((sum, { rendered }) => sum + rendered.size, 0);
    process.stdout.write(`systemd/ and otelcol/ are up to date (${count} files).\n`);
  } else {
    const written: string[] = [];
    for (const { folder, rendered, isGenerated } of targets) {
      const names = await writeOutputs(rendered, `${root}${folder}`, isGenerated);
      written.push(...names.map((name) => `${folder}/${name}`));
    }
    process.stdout.write(`wrote ${written.join(', ')}\n`);
  }
} catch (error) {
  if (!(error instanceof ManifestError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
