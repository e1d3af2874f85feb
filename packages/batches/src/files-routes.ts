import multipart from '@fastify/multipart';
import type { Store, StoredFile } from '@hrserve/store';
import {
  ApiError,
  errorCatalogue,
  type FastifyInstance,
  listBody,
  pageRequestOf,
  parseRequest,
} from 'hrserve';
import { z } from 'zod';
import { FileContentMissingError, FileNotFoundError } from './errors.js';
import { toFileObject } from './file-object.js';
import type { FileStorage, SavedFile, UploadLimits } from './file-storage.js';
import { idParams, newId } from './ids.js';

export interface FilesRoutesOptions {
  store: () => Store;
  storage: FileStorage;
  limits: UploadLimits;
}

/** What this server keeps files for. */
const PURPOSES = ['batch'] as const;

const listQuery = z.object({ purpose: z.string().optional() }).loose();

/**
 * The Files API (https://platform.openai.com/docs/api-reference/files): upload as
 * multipart/form-data (`file`, `purpose`), list, retrieve, content, delete. The bytes go to
 * the service's files directory, the metadata to the store.
 */
export async function filesRoutes(app: FastifyInstance, options: FilesRoutesOptions) {
  const { store, storage, limits } = options;
  await app.register(multipart, {
    // Busboy stops the file at the size limit and flags it; `save` turns that into a 413.
    limits: { fileSize: limits.maxBytes, files: 2, fields: 8, fieldSize: 4096, parts: 10 },
  });

  app.post('/v1/files', async (request, reply) => {
    if (!request.isMultipart()) {
      throw new ApiError(
        errorCatalogue.unsupportedMediaType,
        'Upload files as multipart/form-data with a "file" part and a "purpose" field.',
      );
    }
    let saved: (SavedFile & { filename: string }) | undefined;
    const fields: Record<string, string> = {};
    try {
      for await (const part of request.parts()) {
        if (part.type === 'field') {
          fields[part.fieldname] = String(part.value);
          continue;
        }
        if (part.fieldname !== 'file' || saved) {
          // Drain it: busboy waits until every part is read.
          part.file.resume();
          throw new ApiError(
            errorCatalogue.invalidRequest,
            `Unexpected file part "${part.fieldname}": send one file, as the "file" part.`,
            { param: part.fieldname },
          );
        }
        const file = part.file;
        saved = {
          ...(await storage.save(file, limits, () => file.truncated)),
          filename: part.filename || 'upload.jsonl',
        };
      }
      const purpose = fields.purpose;
      if (!purpose || !(PURPOSES as readonly string[]).includes(purpose)) {
        throw new ApiError(
          errorCatalogue.invalidRequest,
          `purpose must be ${PURPOSES.map((p) => `"${p}"`).join(' or ')}${purpose ? `, not "${purpose}"` : ''}: this server keeps files for the Batch API.`,
          { param: 'purpose' },
        );
      }
      if ('expires_after[anchor]' in fields || 'expires_after[seconds]' in fields) {
        throw new ApiError(
          errorCatalogue.invalidRequest,
          'Files do not expire on this server: leave expires_after out, and delete files with DELETE /v1/files/{id}.',
          { param: 'expires_after' },
        );
      }
      if (!saved) {
        throw new ApiError(errorCatalogue.invalidRequest, 'No file: send it as the "file" part.', {
          param: 'file',
        });
      }
      const file: StoredFile = {
        id: newId('file-'),
        purpose,
        filename: saved.filename,
        bytes: saved.bytes,
        lines: saved.lines,
        createdAt: Date.now(),
        expiresAt: null,
        storedName: saved.storedName,
      };
      await store().files.create(file);
      return reply.send(toFileObject(file));
    } catch (error) {
      if (saved) await storage.remove(saved.storedName).catch(() => {});
      throw error;
    }
  });

  app.get('/v1/files', async (request) => {
    const { purpose } = parseRequest(listQuery, request.query, 'query');
    const page = await store().files.list(pageRequestOf(request.query), purpose);
    return listBody(page, toFileObject);
  });

  app.get('/v1/files/:id', async (request) => {
    const { id } = parseRequest(idParams, request.params, 'path');
    return toFileObject(await fileOf(store(), id));
  });

  app.get('/v1/files/:id/content', async (request, reply) => {
    const { id } = parseRequest(idParams, request.params, 'path');
    const file = await fileOf(store(), id);
    reply.header('content-type', 'application/jsonl');
    reply.header('content-disposition', attachment(file.filename));
    const content = await storage.read(file.storedName);
    if (!content) throw new FileContentMissingError(id);
    return reply.send(content);
  });

  app.delete('/v1/files/:id', async (request) => {
    const { id } = parseRequest(idParams, request.params, 'path');
    const storedName = await store().files.delete(id);
    if (storedName === undefined) throw new FileNotFoundError(id);
    await storage.remove(storedName);
    return { id, object: 'file' as const, deleted: true };
  });
}

/**
 * `Content-Disposition` for a client's file name, which may be any Unicode: an ASCII
 * fallback, and the name itself as RFC 5987 `filename*` (a header carries Latin-1 only).
 */
function attachment(filename: string): string {
  const fallback = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
}

export async function fileOf(store: Store, id: string, param: string | null = null) {
  const file = await store.files.get(id);
  if (!file) throw new FileNotFoundError(id, param);
  return file;
}
