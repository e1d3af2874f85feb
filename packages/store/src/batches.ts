import { type Kysely, type Selectable, sql } from 'kysely';
import type { StoredFile } from './files.js';
import { toRow as fileRow } from './files.js';
import { guard } from './guard.js';
import { fromJson, type JsonObject, toJson } from './items.js';
import { cancelJobs, insertJobs, type NewJob } from './jobs.js';
import type { Page, PageRequest } from './pagination.js';
import type { BatchesTable, StoreSchema } from './schema.js';
import { pageOfTable } from './table-page.js';

export type BatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

export interface StoredBatch {
  id: string;
  status: BatchStatus;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
  /** W3C traceparent of the batch's span, or null. */
  traceParent: string | null;
  /** The Batch object as last stored. */
  body: JsonObject;
}

/** A batch step a runner has claimed: it holds the batch's lease until `until`. */
export interface Lease {
  owner: string;
  until: number;
}

/**
 * Batches and the steps that move them along. Each step (validate, finalize, cancel,
 * expire) is taken by one runner under a lease on the batch row, so a runner that stops
 * mid-step leaves it to another once the lease runs out; every write of a step is fenced by
 * that lease.
 */
export class BatchesRepository {
  readonly #db: Kysely<StoreSchema>;

  constructor(db: Kysely<StoreSchema>) {
    this.#db = db;
  }

  /** Stores a new batch, leased to its creator (who validates it at once). */
  create(batch: StoredBatch, lease: Lease): Promise<StoredBatch> {
    return guard(async () => {
      await this.#db
        .insertInto('batches')
        .values({
          id: batch.id,
          status: batch.status,
          created_at: batch.createdAt,
          expires_at: batch.expiresAt,
          lease_owner: lease.owner,
          lease_until: lease.until,
          trace_parent: batch.traceParent,
          body: toJson(batch.body),
        })
        .execute();
      return batch;
    });
  }

  get(id: string): Promise<StoredBatch | undefined> {
    return guard(async () => {
      const row = await this.#db
        .selectFrom('batches')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toStoredBatch(row);
    });
  }

  list(page: PageRequest): Promise<Page<StoredBatch>> {
    return guard(() => pageOfTable(this.#db, 'batches', page, toStoredBatch));
  }

  /** Batches not finished yet, oldest first (for /health's progress). */
  listUnfinished(limit: number): Promise<StoredBatch[]> {
    return guard(async () => {
      const rows = await this.#db
        .selectFrom('batches')
        .selectAll()
        .where('status', 'in', ['validating', 'in_progress', 'finalizing', 'cancelling'])
        .orderBy('seq')
        .limit(limit)
        .execute();
      return rows.map(toStoredBatch);
    });
  }

  /**
   * Ends a batch's window: its queued and running jobs are cancelled (those that finished
   * stay), in the same transaction as the move to `finalizing`, under `owner`'s lease.
   */
  expire(id: string, owner: string, body: JsonObject, at: number): Promise<boolean> {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('batches')
          .set({ status: 'finalizing', body: toJson(body) })
          .where('id', '=', id)
          .where('status', '=', 'in_progress')
          .where('lease_owner', '=', owner)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await cancelJobs(trx, id, at);
        return true;
      }),
    );
  }

  /**
   * A batch with a step to take, leased to `lease.owner`: one validating, finalizing or
   * cancelling whose lease is free (its runner stopped), or one in progress that is past its
   * window or has no job left to run. Undefined when there is none.
   */
  claimStep(lease: Lease, now: number): Promise<StoredBatch | undefined> {
    return guard(async () => {
      const candidates = await this.#db
        .selectFrom('batches')
        .select('id')
        .where(hasStepToTake(now))
        .orderBy('seq')
        .limit(4)
        .execute();
      for (const { id } of candidates) {
        // The same test again as it is leased: another runner may have moved it on meanwhile
        // (a validation that queued its lines is no longer a batch with nothing to run).
        const row = await this.#db
          .updateTable('batches')
          .set({ lease_owner: lease.owner, lease_until: lease.until })
          .where('id', '=', id)
          .where(hasStepToTake(now))
          .returningAll()
          .executeTakeFirst();
        if (row) return toStoredBatch(row);
      }
      return undefined;
    });
  }

  /** Gives a step's lease up (the step did nothing, or is done); fenced by `owner`. */
  releaseLease(id: string, owner: string): Promise<void> {
    return guard(async () => {
      await this.#db
        .updateTable('batches')
        .set({ lease_owner: null, lease_until: null })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .execute();
    });
  }

  /** Frees every step lease at once: for a database one process uses (SQLite), after a kill. */
  releaseLeases(): Promise<number> {
    return guard(async () => {
      const result = await this.#db
        .updateTable('batches')
        .set({ lease_owner: null, lease_until: null })
        .where('lease_owner', 'is not', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  /** Extends a step's lease; false when `owner` no longer holds it. */
  renew(id: string, lease: Lease): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db
        .updateTable('batches')
        .set({ lease_until: lease.until })
        .where('id', '=', id)
        .where('lease_owner', '=', lease.owner)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  /**
   * Moves a batch on from one of `from` to `next`, if `owner` holds its lease (or, without
   * an owner, whoever does); the lease is kept while the step goes on (`keepLease`) or
   * given up. Undefined when the batch is not in one of `from` or the lease is not `owner`'s.
   */
  transition(
    id: string,
    from: readonly BatchStatus[],
    next: { status: BatchStatus; body: JsonObject },
    options: { owner?: string; keepLease?: boolean } = {},
  ): Promise<StoredBatch | undefined> {
    return guard(async () => {
      let query = this.#db
        .updateTable('batches')
        .set({
          status: next.status,
          body: toJson(next.body),
          ...(options.keepLease ? {} : { lease_owner: null, lease_until: null }),
        })
        .where('id', '=', id)
        .where('status', 'in', [...from]);
      if (options.owner !== undefined) query = query.where('lease_owner', '=', options.owner);
      const row = await query.returningAll().executeTakeFirst();
      return row && toStoredBatch(row);
    });
  }

  /**
   * Validation passed: the batch's jobs are queued and it is in progress, in one
   * transaction (a validation cut short queues nothing). False when `owner` lost the lease.
   */
  start(id: string, owner: string, jobs: readonly NewJob[], body: JsonObject, at: number) {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('batches')
          .set({ status: 'in_progress', body: toJson(body), lease_owner: null, lease_until: null })
          .where('id', '=', id)
          .where('status', '=', 'validating')
          .where('lease_owner', '=', owner)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        await insertJobs(trx, jobs, at);
        return true;
      }),
    );
  }

  /**
   * Cancels a validating or running batch: it is `cancelling`, its queued jobs will not run
   * and its running ones stop; a runner then writes what finished and marks it cancelled.
   * Undefined when the batch is not validating or in progress.
   */
  cancel(id: string, body: JsonObject, at: number): Promise<StoredBatch | undefined> {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('batches')
          .set({ status: 'cancelling', body: toJson(body), lease_owner: null, lease_until: null })
          .where('id', '=', id)
          .where('status', 'in', ['validating', 'in_progress'])
          .returningAll()
          .executeTakeFirst();
        if (!row) return undefined;
        await cancelJobs(trx, id, at);
        return toStoredBatch(row);
      }),
    );
  }

  /**
   * The last step: records the output files, the batch's final state, and drops its jobs
   * (their results are in the files now), in one transaction. False when `owner` lost the
   * lease (another runner finishes it).
   */
  finish(
    id: string,
    owner: string,
    final: { status: BatchStatus; body: JsonObject; files: readonly StoredFile[] },
  ): Promise<boolean> {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('batches')
          .set({
            status: final.status,
            body: toJson(final.body),
            lease_owner: null,
            lease_until: null,
          })
          .where('id', '=', id)
          .where('lease_owner', '=', owner)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        if (final.files.length > 0) {
          await trx.insertInto('files').values(final.files.map(fileRow)).execute();
        }
        await trx.deleteFrom('jobs').where('group_id', '=', id).execute();
        return true;
      }),
    );
  }
}

/**
 * A batch whose lease is free and that has a step to take: validating, finalizing or
 * cancelling, or in progress past its window or with no job left to run. Written once, in
 * SQL, for the candidates' query and the lease's update alike.
 */
function hasStepToTake(now: number) {
  return sql<boolean>`(batches.lease_until IS NULL OR batches.lease_until < ${now})
    AND (batches.status IN ('validating', 'finalizing', 'cancelling')
      OR (batches.status = 'in_progress' AND (batches.expires_at < ${now}
        OR NOT EXISTS (SELECT 1 FROM jobs WHERE jobs.group_id = batches.id
          AND jobs.status IN ('queued', 'running')))))`;
}

function toStoredBatch(row: Selectable<BatchesTable>): StoredBatch {
  return {
    id: row.id,
    status: row.status as BatchStatus,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    traceParent: row.trace_parent,
    body: fromJson<JsonObject>(row.body),
  };
}
