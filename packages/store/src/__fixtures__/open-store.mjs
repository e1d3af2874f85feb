// One of the processes of the migration race (migrate.race.test.ts): loads the built store,
// says "ready", waits for the test's "go" on stdin so both processes open at the same moment,
// then opens the store (running what migrations it finds pending) and prints which it ran.
import { openStore } from '../../dist/index.js';

const location = JSON.parse(process.argv[2] ?? '{}');
process.stdout.write('ready\n');
await new Promise((resolve) => {
  process.stdin.once('data', resolve);
  process.stdin.once('end', resolve);
});
const store = await openStore({ service: 'race', ...location });
process.stdout.write(`${JSON.stringify({ ran: store.migrationsRun })}\n`);
await store.close();
process.stdin.destroy();
