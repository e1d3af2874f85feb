/**
 * Generates the systemd user units and the port table from every service's
 * manifest (the `hrserve` block of services/<name>/package.json).
 *
 *   pnpm gen            write systemd/<service>.service, systemd/ports.json, systemd/ports.env
 *   pnpm gen --check    exit 1 if the committed files differ from what the manifests give
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderAll, staleOutputs, writeOutputs } from './generate.js';
import { ManifestError } from './manifest.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const outputDir = `${root}systemd`;
const { values } = parseArgs({ options: { check: { type: 'boolean', default: false } } });

try {
  const rendered = await renderAll(root);
  if (values.check) {
    const problems = await staleOutputs(rendered, outputDir);
    if (problems.length > 0) {
      process.stderr.write(
        `systemd/ does not match the service manifests:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\nRun \`pnpm gen\` (or \`just gen\`) and commit the result.\n`,
      );
      process.exit(1);
    }
    process.stdout.write(`systemd/ is up to date (${rendered.size} files).\n`);
  } else {
    const written = await writeOutputs(rendered, outputDir);
    process.stdout.write(`wrote ${written.map((name) => `systemd/${name}`).join(', ')}\n`);
  }
} catch (error) {
  if (!(error instanceof ManifestError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
