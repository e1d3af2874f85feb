import { basename } from 'node:path';
import { applyEnvironmentFile } from './environment-file.js';

/**
 * `just dev` preloads this (`node --import hrserve/dev-settings`, before telemetry, which
 * reads OTEL_* at once) to give the service the settings file its unit reads, named by
 * HRSERVE_SETTINGS_FILE. Variables already in the environment (given on the command line)
 * win over the file. It is the one module besides config.ts that touches process.env: its
 * whole job is to fill it before config.ts parses it. One line on stderr says what it did,
 * names only (the file holds API keys).
 */
const path = process.env.HRSERVE_SETTINGS_FILE;
if (path) {
  const result = applyEnvironmentFile(path, process.env);
  if (!result) {
    const service = basename(path, '.env');
    process.stderr.write(`settings: no ${path} (just config ${service} creates it)\n`);
  } else {
    const parts = [`settings from ${path}: ${result.applied.join(', ') || 'none'}`];
    if (result.overridden.length > 0) {
      parts.push(`given on the command line instead: ${result.overridden.join(', ')}`);
    }
    if (result.invalidNames.length > 0) {
      parts.push(
        `ignored, not variable names (systemd ignores them too): ${result.invalidNames.join(', ')}`,
      );
    }
    process.stderr.write(`${parts.join('; ')}\n`);
  }
}
