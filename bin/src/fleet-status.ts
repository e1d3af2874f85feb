/**
 * Prints every service of this checkout's port table (or --ports <file>) at a
 * glance; --no-systemd skips the unit states. `just status`, `just health`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { fleet, renderTable } from './fleet.js';

const { values } = parseArgs({
  options: { ports: { type: 'string' }, 'no-systemd': { type: 'boolean', default: false } },
});
const portsFile = values.ports ?? new URL('../../systemd/ports.json', import.meta.url);
const ports = JSON.parse(await readFile(portsFile, 'utf8')) as Record<string, number>;
const rows = await fleet(ports, { systemd: !values['no-systemd'] });
process.stdout.write(`${renderTable(rows)}\n`);
