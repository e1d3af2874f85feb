/**
 * The reliability and security suite against real services, printing its figures:
 *
 *   pnpm reliability            # what CI runs too (a few minutes)
 *   pnpm reliability --soak 10  # 10× the load and the disconnect storm
 */
import { parseArgs } from 'node:util';
import { report, runSuite } from './suite.js';

const { values } = parseArgs({ options: { soak: { type: 'string', default: '1' } } });
const soak = Number(values.soak);
if (!Number.isInteger(soak) || soak < 1) {
  process.stderr.write('--soak takes a whole number ≥ 1\n');
  process.exit(2);
}
const results = await runSuite({
  soak,
  onResult: (result) => process.stdout.write(`${report([result])}\n`),
});
const failed = results.filter((result) => result.failures.length > 0);
process.stdout.write(`${results.length - failed.length}/${results.length} scenarios passed\n`);
process.exit(failed.length === 0 ? 0 : 1);
