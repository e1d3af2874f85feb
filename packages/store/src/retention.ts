import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import type { Backend } from './backend.js';
import { FINAL_STATUSES } from './responses.js';
import type { StoreSchema } from './schema.js';

export interface RetentionLimits {
  /** Milliseconds a response is kept after its creation; 0: no age limit. */
  ttlMs: number;
  /** The most responses kept; 0: no count limit. */
  maxResponses: number;
  /** Responses deleted per statement. */
  batchSize: number;
}

export interface PruneResult {
  /** Responses deleted for their age, and beyond the count. */
  expired: number;
  overflow: number;
  /** False when another instance was pruning (Postgres), so this call did nothing. */
  ran: boolean;
}

/**
 * Upper bound on statements per prune, so one call always ends; what is left waits for the
 * next run (at 500 a batch, 100 batches delete 50,000 responses).
 */
const MAX_BATCHES = 100;

/**
 * An arbitrary constant naming the pruner's Postgres advisory lock ("hrserve" + 1). Kysely's
 * Migrator uses its own key, so pruning and migrating never wait for each other.
 */
const PRUNE_LOCK_KEY = sql.lit('7526752432338593025');
const TRY_LOCK = sql<{
  locked: boolean;
}>`select pg_try_advisory_lock(${PRUNE_LOCK_KEY}::bigint) as locked`;
const UNLOCK = sql`select pg_advisory_unlock(${PRUNE_LOCK_KEY}::bigint)`;

/**
 * Deletes responses older than the TTL, then the oldest finished ones beyond the count
 * limit, with their input items, in batches of short statements: a long delete would hold
 * SQLite's only write lock and, node:sqlite being synchronous, the event loop. On Postgres one
 * instance prunes at a time (a session advisory lock); the others skip their turn.
 */
export async function pruneResponses(
  db: Kysely<StoreSchema>,
  backend: Backend,
  limits: RetentionLimits,
  now: number,
): Promise<PruneResult> {
  if (backend === 'sqlite') return { ...(await pruneBatches(db, limits, now)), ran: true };
  return db.connection().execute(async (connection) => {
    const lock = await TRY_LOCK.execute(connection);
    if (!lock.rows[0]?.locked) return { expired: 0, overflow: 0, ran: false };
    try {
      return { ...(await pruneBatches(connection, limits, now)), ran: true };
    } finally {
      await UNLOCK.execute(connection);
    }
  });
}

async function pruneBatches(
  db: Kysely<StoreSchema>,
  limits: RetentionLimits,
  now: number,
): Promise<{ expired: number; overflow: number }> {
  let expired = 0;
  let overflow = 0;
  let batches = 0;
  if (limits.ttlMs > 0) {
    const cutoff = now - limits.ttlMs;
    for (; batches < MAX_BATCHES; batches++) {
      const deleted = await deleteBatch(db, limits.batchSize, (query) =>
        query.where('created_at', '<=', cutoff),
      );
      expired += deleted;
      if (deleted < limits.batchSize) break;
      await yieldToEventLoop();
    }
  }
  if (limits.maxResponses > 0) {
    // The newest response beyond the limit: it and every older finished one go. Running ones
    // stay, whatever the count: only their age removes them.
    const boundary = await db
      .selectFrom('responses')
      .select('seq')
      .orderBy('seq', 'desc')
      .offset(limits.maxResponses)
      .limit(1)
      .executeTakeFirst();
    for (; boundary && batches < MAX_BATCHES; batches++) {
      const deleted = await deleteBatch(db, limits.batchSize, (query) =>
        query.where('seq', '<=', boundary.seq).where('status', 'in', [...FINAL_STATUSES]),
      );
      overflow += deleted;
      if (deleted < limits.batchSize) break;
      await yieldToEventLoop();
    }
  }
  return { expired, overflow };
}

type SeqQuery = SelectQueryBuilder<StoreSchema, 'responses', { seq: number }>;

/** Deletes the oldest `batchSize` responses `filter` picks (their items go by cascade). */
async function deleteBatch(
  db: Kysely<StoreSchema>,
  batchSize: number,
  filter: (query: SeqQuery) => SeqQuery,
): Promise<number> {
  const victims = filter(db.selectFrom('responses').select('seq')).orderBy('seq').limit(batchSize);
  const result = await db.deleteFrom('responses').where('seq', 'in', victims).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Lets requests run between batches (node:sqlite blocks while a statement runs). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
