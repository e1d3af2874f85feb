import type { Store } from '@hrserve/store';
import { endedBody } from './ended-body.js';

const BATCH = 500;

/**
 * Responses a crash left queued or in progress (kill -9, power loss) are marked failed at
 * start, so a client polling one learns it will not finish: streamed ones, which only the
 * process that ran them could stream; durable background responses have a job and run
 * again instead. Only with SQLite, which one process uses: on Postgres another instance
 * may be running them (their own instance finishes them; one that crashed leaves them in
 * progress until RESPONSES_TTL).
 */
export async function failOrphanedResponses(store: Store, now = Date.now()): Promise<number> {
  if (store.backend !== 'sqlite') return 0;
  let failed = 0;
  for (;;) {
    const orphans = await store.responses.listUnfinished(BATCH, { withoutJobs: true });
    for (const orphan of orphans) {
      await store.responses.markFailed(orphan.id, {
        body: endedBody(orphan.body, 'failed', now, {
          code: 'server_error',
          message:
            'The server stopped while this response was running (it was killed or crashed); create it again.',
        }),
        at: now,
      });
      failed += 1;
    }
    if (orphans.length < BATCH) return failed;
  }
}
