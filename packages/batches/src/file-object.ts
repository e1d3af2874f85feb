import type { StoredFile } from '@hrserve/store';

/** The Files API's `File` object (openai's `FileObject`). */
export function toFileObject(file: StoredFile) {
  return {
    id: file.id,
    object: 'file' as const,
    bytes: file.bytes,
    created_at: Math.floor(file.createdAt / 1000),
    filename: file.filename,
    purpose: file.purpose,
    status: 'processed' as const,
    ...(file.expiresAt === null ? {} : { expires_at: Math.floor(file.expiresAt / 1000) }),
  };
}
