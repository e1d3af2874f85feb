import { isUniqueViolation, StoreConflictError } from './errors.js';
import { classifyFault, StoreUnavailableError } from './faults.js';

/**
 * Runs one store operation and rethrows what the database threw as the store's domain errors:
 * infrastructure faults as `StoreUnavailableError`, duplicate ids as `StoreConflictError`.
 * Anything else (a bug) is rethrown as it is.
 */
export async function guard<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toStoreError(error);
  }
}

export function toStoreError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError || error instanceof StoreConflictError) return error;
  const fault = classifyFault(error);
  if (fault) return new StoreUnavailableError(fault, { cause: error });
  if (isUniqueViolation(error)) return new StoreConflictError({ cause: error });
  return error;
}
