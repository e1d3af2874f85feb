import type { Kysely, Transaction } from 'kysely';
import type { Backend } from './backend.js';
import { guard } from './guard.js';
import { fromJson, toJson } from './items.js';
import type { StoreSchema } from './schema.js';

/**
 * `queued` → `running` (claimed, under a lease) → `succeeded` | `failed`; `cancelled` from
 * either of the first two. A running job whose lease ran out is claimable again.
 */
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';

export interface NewJob {
  id: string;
  queue: string;
  groupId: string;
  position: number;
  payload: unknown;
}

export interface ClaimedJob {
  id: string;
  groupId: string;
  position: number;
  payload: unknown;
  /** Claims so far, this one included. */
  attempts: number;
}

export type JobCounts = Record<JobStatus, number> & { total: number };

export interface FinishedJob {
  position: number;
  status: 'succeeded' | 'failed';
  result: unknown;
}

/** Rows per INSERT: well under SQLite's 32766 bound parameters and Postgres' 65535. */
const INSERT_CHUNK = 500;

/**
 * Jobs claimed with leases. On Postgres several processes (or hosts) claim from one queue:
 * `FOR UPDATE SKIP LOCKED` gives each job to one of them. On SQLite one process uses the
 * database, and its writes are serialized anyway. Every write of a running job is fenced
 * by its lease owner, so a worker that lost its lease (it stalled, and another took the
 * job) cannot record a result twice.
 */
export class JobsRepository {
  readonly #db: Kysely<StoreSchema>;
  readonly #backend: Backend;

  constructor(db: Kysely<StoreSchema>, backend: Backend) {
    this.#db = db;
    this.#backend = backend;
  }

  /**
   * Whether one process uses this database (SQLite): a running job it finds at start was
   * held by a run that was killed, and can be given back at once (`requeueRunning`).
   */
  get singleProcess(): boolean {
    return this.#backend === 'sqlite';
  }

  enqueue(jobs: readonly NewJob[], at: number): Promise<void> {
    return guard(() => this.#db.transaction().execute((trx) => insertJobs(trx, jobs, at)));
  }

  /**
   * Up to `limit` jobs of `queue`, oldest first: queued ones, and running ones whose lease ran
   * out (their worker stopped). Each is leased to `owner` until `now + leaseMs`.
   */
  claim(
    queue: string,
    options: { owner: string; leaseMs: number; limit: number; now: number },
  ): Promise<ClaimedJob[]> {
    const { owner, leaseMs, limit, now } = options;
    return guard(async () => {
      const rows = await this.#db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'running',
          lease_owner: owner,
          lease_until: now + leaseMs,
          attempts: eb('attempts', '+', 1),
        }))
        .where('seq', 'in', (eb) => {
          const claimable = eb
            .selectFrom('jobs')
            .select('seq')
            .where('queue', '=', queue)
            .where((where) =>
              where.or([
                where('status', '=', 'queued'),
                // Not its own: a runner that could not renew for a while still runs those.
                where.and([
                  where('status', '=', 'running'),
                  where('lease_until', '<', now),
                  where('lease_owner', '!=', owner),
                ]),
              ]),
            )
            .orderBy('seq')
            .limit(limit);
          return this.#backend === 'postgres' ? claimable.forUpdate().skipLocked() : claimable;
        })
        .returning(['id', 'group_id', 'position', 'payload', 'attempts', 'seq'])
        .execute();
      return rows
        .sort((a, b) => a.seq - b.seq)
        .map((row) => ({
          id: row.id,
          groupId: row.group_id,
          position: row.position,
          payload: fromJson<unknown>(row.payload),
          attempts: row.attempts,
        }));
    });
  }

  /** Extends `owner`'s leases on `ids`; returns the ids still its own (the others were cancelled or taken). */
  renew(owner: string, ids: readonly string[], leaseMs: number, now: number): Promise<string[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return guard(async () => {
      const rows = await this.#db
        .updateTable('jobs')
        .set({ lease_until: now + leaseMs })
        .where('id', 'in', [...ids])
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .returning('id')
        .execute();
      return rows.map((row) => row.id);
    });
  }

  /** Records a job's outcome; false when `owner` no longer holds it (nothing is written). */
  finish(
    id: string,
    owner: string,
    outcome: { status: 'succeeded' | 'failed'; result: unknown },
    now: number,
  ): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db
        .updateTable('jobs')
        .set({
          status: outcome.status,
          result: toJson(outcome.result),
          lease_owner: null,
          lease_until: null,
          finished_at: now,
        })
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  /**
   * Gives a running job back to the queue (its worker is stopping, or the service was too
   * busy to take it): another claim runs it, and this claim does not count as an attempt.
   */
  release(id: string, owner: string): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db
        .updateTable('jobs')
        .set((eb) => ({
          status: 'queued',
          lease_owner: null,
          lease_until: null,
          attempts: eb('attempts', '-', 1),
        }))
        .where('id', '=', id)
        .where('lease_owner', '=', owner)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  /**
   * Gives every running job of `queue` back to the queue at once: for a database one
   * process uses (SQLite), whose previous run was killed holding them; their attempts stay
   * counted.
   */
  requeueRunning(queue: string): Promise<number> {
    return guard(async () => {
      const result = await this.#db
        .updateTable('jobs')
        .set({ status: 'queued', lease_owner: null, lease_until: null })
        .where('queue', '=', queue)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    });
  }

  /**
   * Cancels a group's queued and running jobs (a background response cancelled or deleted):
   * a running one's worker finds out at its next renewal, and cannot record a result.
   */
  cancelGroup(groupId: string, at: number): Promise<void> {
    return guard(() => this.#db.transaction().execute((trx) => cancelJobs(trx, groupId, at)));
  }

  /** Forgets a group's jobs (their work is recorded elsewhere: a finished response). */
  deleteGroup(groupId: string): Promise<void> {
    return guard(async () => {
      await this.#db.deleteFrom('jobs').where('group_id', '=', groupId).execute();
    });
  }

  counts(groupId: string): Promise<JobCounts> {
    return guard(async () => {
      const rows = await this.#db
        .selectFrom('jobs')
        .select((eb) => ['status', eb.fn.countAll<number>().as('count')])
        .where('group_id', '=', groupId)
        .groupBy('status')
        .execute();
      const counts: JobCounts = {
        queued: 0,
        running: 0,
        succeeded: 0,
        failed: 0,
        cancelled: 0,
        total: 0,
      };
      for (const row of rows) {
        counts[row.status as JobStatus] = Number(row.count);
        counts.total += Number(row.count);
      }
      return counts;
    });
  }

  /** A group's finished jobs in position order, a page at a time (`afterPosition` excluded). */
  finished(groupId: string, afterPosition: number, limit: number): Promise<FinishedJob[]> {
    return guard(async () => {
      const rows = await this.#db
        .selectFrom('jobs')
        .select(['position', 'status', 'result'])
        .where('group_id', '=', groupId)
        .where('position', '>', afterPosition)
        .where('status', 'in', ['succeeded', 'failed'])
        .orderBy('position')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        position: row.position,
        status: row.status as 'succeeded' | 'failed',
        result: fromJson<unknown>(row.result ?? 'null'),
      }));
    });
  }
}

export async function insertJobs(
  trx: Transaction<StoreSchema>,
  jobs: readonly NewJob[],
  at: number,
): Promise<void> {
  for (let start = 0; start < jobs.length; start += INSERT_CHUNK) {
    await trx
      .insertInto('jobs')
      .values(
        jobs.slice(start, start + INSERT_CHUNK).map((job) => ({
          id: job.id,
          queue: job.queue,
          group_id: job.groupId,
          position: job.position,
          status: 'queued',
          payload: toJson(job.payload),
          created_at: at,
        })),
      )
      .execute();
  }
}

/** Cancels a group's queued and running jobs (running ones' workers find out at their next renewal). */
export async function cancelJobs(
  trx: Transaction<StoreSchema>,
  groupId: string,
  at: number,
): Promise<void> {
  await trx
    .updateTable('jobs')
    .set({ status: 'cancelled', lease_owner: null, lease_until: null, finished_at: at })
    .where('group_id', '=', groupId)
    .where('status', 'in', ['queued', 'running'])
    .execute();
}
