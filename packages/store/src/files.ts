import type { Kysely, Selectable } from 'kysely';
import { guard } from './guard.js';
import type { Page, PageRequest } from './pagination.js';
import type { FilesTable, StoreSchema } from './schema.js';
import { pageOfTable } from './table-page.js';

/** A file's metadata; its bytes are in the service's files directory, under `storedName`. */
export interface StoredFile {
  id: string;
  purpose: string;
  filename: string;
  bytes: number;
  /** JSONL lines, counted at upload (0 for other files). */
  lines: number;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number | null;
  storedName: string;
}

/** Files' metadata (uploads and the files batches produce). */
export class FilesRepository {
  readonly #db: Kysely<StoreSchema>;

  constructor(db: Kysely<StoreSchema>) {
    this.#db = db;
  }

  /** Records a file whose bytes are already in place; `StoreConflictError` for an id already stored. */
  create(file: StoredFile): Promise<StoredFile> {
    return guard(async () => {
      await this.#db.insertInto('files').values(toRow(file)).execute();
      return file;
    });
  }

  get(id: string): Promise<StoredFile | undefined> {
    return guard(async () => {
      const row = await this.#db
        .selectFrom('files')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toStoredFile(row);
    });
  }

  /** Every file (or those of one purpose), by upload order. */
  list(page: PageRequest, purpose?: string): Promise<Page<StoredFile>> {
    return guard(() =>
      pageOfTable(
        this.#db,
        'files',
        page,
        toStoredFile,
        purpose === undefined ? undefined : { column: 'purpose', value: purpose },
      ),
    );
  }

  /** Forgets a file; its stored name (for the caller to delete the bytes), or undefined when none. */
  delete(id: string): Promise<string | undefined> {
    return guard(async () => {
      const row = await this.#db
        .deleteFrom('files')
        .where('id', '=', id)
        .returning('stored_name')
        .executeTakeFirst();
      return row?.stored_name;
    });
  }
}

export function toRow(file: StoredFile): Omit<Selectable<FilesTable>, 'seq'> {
  return {
    id: file.id,
    purpose: file.purpose,
    filename: file.filename,
    bytes: file.bytes,
    lines: file.lines,
    created_at: file.createdAt,
    expires_at: file.expiresAt,
    stored_name: file.storedName,
  };
}

function toStoredFile(row: Selectable<FilesTable>): StoredFile {
  return {
    id: row.id,
    purpose: row.purpose,
    filename: row.filename,
    bytes: row.bytes,
    lines: row.lines,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    storedName: row.stored_name,
  };
}
