import { type Kysely, type Selectable, sql } from 'kysely';
import { appendConversationItems, insertInputItems } from './append-items.js';
import type { Backend } from './backend.js';
import { UnknownCursorError } from './errors.js';
import { guard } from './guard.js';
import { fromJson, type ItemInput, type JsonObject, type StoredItem, toJson } from './items.js';
import { insertJobs, type NewJob } from './jobs.js';
import { checkLimit, type Page, type PageRequest, toPage } from './pagination.js';
import type { ResponsesTable, StoreSchema } from './schema.js';
import { pageOfTable } from './table-page.js';

/** The Responses API's statuses (openai's ResponseStatus). */
export type ResponseStatus =
  | 'queued'
  | 'in_progress'
  | 'completed'
  | 'incomplete'
  | 'failed'
  | 'cancelled';

/** Statuses a response leaves no more: finishing it again changes nothing. */
export const FINAL_STATUSES: readonly ResponseStatus[] = [
  'completed',
  'incomplete',
  'failed',
  'cancelled',
];

export interface StoredResponse {
  id: string;
  status: ResponseStatus;
  model: string;
  /** Epoch milliseconds. */
  createdAt: number;
  completedAt: number | null;
  previousResponseId: string | null;
  conversationId: string | null;
  /** The Response object, as the route stored it: GET /v1/responses/{id} answers it. */
  body: JsonObject;
}

/** A response of a previous_response_id chain, with the input items it was given. */
export interface ChainedResponse extends StoredResponse {
  inputItems: StoredItem[];
}

export interface NewResponse {
  id: string;
  /** `queued` or `in_progress` for work still running (background, streaming), else final. */
  status: ResponseStatus;
  model: string;
  createdAt: number;
  completedAt?: number | null | undefined;
  previousResponseId?: string | null | undefined;
  conversationId?: string | null | undefined;
  /** The Response object; keep its `status` the same as `status`. */
  body: object;
  /** The request's input as items with ids (GET /v1/responses/{id}/input_items). */
  inputItems: readonly ItemInput[];
  /**
   * Items appended to `conversationId` in the same transaction (a response stored already
   * finished: its input and output). Skipped when that conversation was deleted meanwhile.
   */
  conversationItems?: readonly ItemInput[] | undefined;
  /**
   * The job that runs it (a background response), queued in the same transaction: a crash
   * leaves either both or neither.
   */
  job?: NewJob | undefined;
}

/** How a running response ends. */
export interface ResponseOutcome {
  /** The final Response object. */
  body: object;
  /** Epoch milliseconds. */
  at: number;
  /** Appended to the response's conversation in the same transaction (its input and output). */
  conversationItems?: readonly ItemInput[] | undefined;
}

/**
 * Responses and their input items. Every write is one transaction: a response is stored with
 * all its input items and its conversation's new items, or not at all.
 */
export class ResponsesRepository {
  readonly #db: Kysely<StoreSchema>;
  readonly #backend: Backend;

  constructor(db: Kysely<StoreSchema>, backend: Backend) {
    this.#db = db;
    this.#backend = backend;
  }

  /** Stores a new response; `StoreConflictError` when its id is already stored. */
  create(response: NewResponse): Promise<StoredResponse> {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        await trx
          .insertInto('responses')
          .values({
            id: response.id,
            status: response.status,
            model: response.model,
            created_at: response.createdAt,
            completed_at: response.completedAt ?? null,
            previous_response_id: response.previousResponseId ?? null,
            conversation_id: response.conversationId ?? null,
            body: toJson(response.body),
          })
          .execute();
        await insertInputItems(trx, response.id, response.inputItems);
        if (response.job) await insertJobs(trx, [response.job], response.createdAt);
        if (response.conversationId && response.conversationItems) {
          await appendConversationItems(
            trx,
            response.conversationId,
            response.conversationItems,
            response.createdAt,
          );
        }
        return {
          id: response.id,
          status: response.status,
          model: response.model,
          createdAt: response.createdAt,
          completedAt: response.completedAt ?? null,
          previousResponseId: response.previousResponseId ?? null,
          conversationId: response.conversationId ?? null,
          body: fromJson<JsonObject>(toJson(response.body)),
        };
      }),
    );
  }

  get(id: string): Promise<StoredResponse | undefined> {
    return guard(async () => {
      const row = await this.#db
        .selectFrom('responses')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toStoredResponse(row);
    });
  }

  /**
   * The response `id` and those before it by `previous_response_id`, newest first, each with
   * its input items: at most `maxTurns`, in two queries whatever the length (a recursive
   * one for the chain, one for the items). The chain stops short where a response is gone:
   * the last one's `previousResponseId` then names a response that is not stored.
   */
  chain(id: string, maxTurns: number): Promise<ChainedResponse[]> {
    return guard(async () => {
      const rows = await this.#db
        .withRecursive('chain(id, previous_response_id, depth)', (db) =>
          db
            .selectFrom('responses')
            .select(['id', 'previous_response_id', sql<number>`0`.as('depth')])
            .where('id', '=', id)
            .unionAll((db) =>
              db
                .selectFrom('responses')
                .innerJoin('chain', 'chain.previous_response_id', 'responses.id')
                .select([
                  'responses.id',
                  'responses.previous_response_id',
                  sql<number>`chain.depth + 1`.as('depth'),
                ])
                // Bounds the walk, and a loop (never made by the API) with it.
                .where('chain.depth', '<', checkLimit(maxTurns) - 1),
            ),
        )
        .selectFrom('chain')
        .innerJoin('responses', 'responses.id', 'chain.id')
        .selectAll('responses')
        .orderBy('chain.depth', 'asc')
        .execute();
      if (rows.length === 0) return [];
      const items = await this.#db
        .selectFrom('response_input_items')
        .select(['response_id', 'body'])
        .where(
          'response_id',
          'in',
          rows.map((row) => row.id),
        )
        .orderBy('response_id')
        .orderBy('position')
        .execute();
      const itemsOf = new Map<string, StoredItem[]>();
      for (const item of items) {
        const list = itemsOf.get(item.response_id) ?? [];
        list.push(fromJson<StoredItem>(item.body));
        itemsOf.set(item.response_id, list);
      }
      return rows.map((row) => ({
        ...toStoredResponse(row),
        inputItems: itemsOf.get(row.id) ?? [],
      }));
    });
  }

  /** Deletes a response and its input items; false when there was none. */
  delete(id: string): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db.deleteFrom('responses').where('id', '=', id).executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  /** Every stored response, by creation order. */
  list(page: PageRequest): Promise<Page<StoredResponse>> {
    return guard(() => pageOfTable(this.#db, 'responses', page, toStoredResponse));
  }

  /** A response's input items; undefined when the response is not stored. */
  listInputItems(responseId: string, page: PageRequest): Promise<Page<StoredItem> | undefined> {
    return guard(async () => {
      const limit = checkLimit(page.limit);
      const response = await this.#db
        .selectFrom('responses')
        .select('id')
        .where('id', '=', responseId)
        .executeTakeFirst();
      if (!response) return undefined;
      let query = this.#db
        .selectFrom('response_input_items')
        .select(['body'])
        .where('response_id', '=', responseId)
        .orderBy('position', page.order)
        .limit(limit + 1);
      if (page.after !== undefined) {
        const cursor = await this.#db
          .selectFrom('response_input_items')
          .select((eb) => eb.fn.min('position').as('position'))
          .where('response_id', '=', responseId)
          .where('item_id', '=', page.after)
          .executeTakeFirst();
        if (cursor?.position == null) throw new UnknownCursorError(page.after);
        query = query.where('position', page.order === 'asc' ? '>' : '<', cursor.position);
      }
      const rows = await query.execute();
      return toPage(
        rows.map((row) => fromJson<StoredItem>(row.body)),
        limit,
        (item) => item.id,
      );
    });
  }

  /**
   * A running response completed (`completed`, or `incomplete` when a limit cut it short).
   * Returns the response as stored afterwards: unchanged when it had already finished (a
   * cancel won the race); undefined when it is not stored.
   */
  markCompleted(
    id: string,
    outcome: ResponseOutcome & { status?: 'completed' | 'incomplete' },
  ): Promise<StoredResponse | undefined> {
    return this.#finish(id, outcome.status ?? 'completed', outcome);
  }

  /**
   * A queued response started (a background response got its sequence): `in_progress` with
   * this body; also one in progress already, which a runner resumes after its first one
   * stopped. Nothing changes when it has finished (cancelled meanwhile); false then.
   */
  markInProgress(id: string, body: object): Promise<boolean> {
    return guard(async () => {
      const result = await this.#db
        .updateTable('responses')
        .set({ status: 'in_progress', body: toJson(body) })
        .where('id', '=', id)
        .where('status', 'in', ['queued', 'in_progress'])
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    });
  }

  /**
   * Responses still queued or in progress, oldest first, at most `limit`: after a crash,
   * what its process left running (a service that alone uses the store fails them at start).
   */
  listUnfinished(
    limit: number,
    options: {
      /** Leave out those a job still runs (durable background responses: they resume). */
      withoutJobs?: boolean;
    } = {},
  ): Promise<StoredResponse[]> {
    return guard(async () => {
      const rows = await this.#db
        .selectFrom('responses')
        .selectAll()
        .where('status', 'in', ['queued', 'in_progress'])
        .$if(options.withoutJobs === true, (query) =>
          query.where(({ not, exists, selectFrom }) =>
            not(
              exists(
                selectFrom('jobs')
                  .select('jobs.id')
                  .whereRef('jobs.group_id', '=', 'responses.id')
                  .where('jobs.status', 'in', ['queued', 'running']),
              ),
            ),
          ),
        )
        .orderBy('seq', 'asc')
        .limit(checkLimit(limit))
        .execute();
      return rows.map(toStoredResponse);
    });
  }

  /** A running response failed; see markCompleted for what it returns. */
  markFailed(id: string, outcome: ResponseOutcome): Promise<StoredResponse | undefined> {
    return this.#finish(id, 'failed', outcome);
  }

  /** A running response was cancelled; see markCompleted for what it returns. */
  markCancelled(id: string, outcome: ResponseOutcome): Promise<StoredResponse | undefined> {
    return this.#finish(id, 'cancelled', outcome);
  }

  #finish(
    id: string,
    status: ResponseStatus,
    outcome: ResponseOutcome,
  ): Promise<StoredResponse | undefined> {
    return guard(() =>
      this.#db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('responses')
          .selectAll()
          .where('id', '=', id)
          // Postgres: hold the row until commit, so a concurrent cancel and completion
          // cannot both win. SQLite's BEGIN IMMEDIATE already holds the only write lock.
          .$if(this.#backend === 'postgres', (query) => query.forUpdate())
          .executeTakeFirst();
        if (!row) return undefined;
        if (FINAL_STATUSES.includes(row.status as ResponseStatus)) return toStoredResponse(row);
        const updated = { status, completed_at: outcome.at, body: toJson(outcome.body) };
        await trx.updateTable('responses').set(updated).where('id', '=', id).execute();
        if (row.conversation_id && outcome.conversationItems) {
          await appendConversationItems(
            trx,
            row.conversation_id,
            outcome.conversationItems,
            outcome.at,
          );
        }
        return toStoredResponse({ ...row, ...updated });
      }),
    );
  }
}

function toStoredResponse(row: Selectable<ResponsesTable>): StoredResponse {
  return {
    id: row.id,
    status: row.status as ResponseStatus,
    model: row.model,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    previousResponseId: row.previous_response_id,
    conversationId: row.conversation_id,
    body: fromJson<JsonObject>(row.body),
  };
}
