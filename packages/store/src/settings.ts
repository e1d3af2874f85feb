import { z } from 'zod';
import { serviceDataDir } from './data-dir.js';

const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

/**
 * Where a service keeps its state, for its config schema (`.extend(storeSettings('embed'))`):
 * `DATABASE_URL` (Postgres, shared by instances) or SQLite in `DATA_DIR`.
 */
export function storeSettings(service: string) {
  return {
    DATABASE_URL: z
      .preprocess(
        unsetIfEmpty,
        z
          .string()
          .regex(
            /^postgres(ql)?:\/\/\S+$/,
            'expected a PostgreSQL URL such as postgres://user:password@host:5432/database',
          )
          .optional(),
      )
      .describe(
        'PostgreSQL URL for the durable state (stored responses, conversations, files and batches), shared by every instance given the same URL (default: unset, SQLite in DATA_DIR).',
      ),
    DATA_DIR: z
      .preprocess(unsetIfEmpty, z.string().default(serviceDataDir(service, process.env)))
      .describe(
        `Directory of the service's own state (SQLite's store.sqlite without DATABASE_URL, and files), created 0700 (default $XDG_DATA_HOME/hrserve/${service}, i.e. ~/.local/share/hrserve/${service}).`,
      ),
  };
}
