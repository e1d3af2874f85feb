import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from './faults.js';
import { openStore } from './store.js';
import { BACKENDS, removeTestDirectories } from './test/backends.js';
import { message, newId, newResponse, responseBody } from './test/fixtures.js';

afterAll(removeTestDirectories);

const sqlite = BACKENDS.find((backend) => backend.name === 'sqlite');
if (!sqlite) throw new Error('no sqlite backend');

/** An item of about `bytes` bytes. */
const bulky = (bytes: number) => message('x'.repeat(bytes));

describe('a SQLite store on a full disk', () => {
  // max_page_count stands in for the disk: SQLite answers SQLITE_FULL exactly as it does
  // when a write cannot extend the file.
  it('fails a write as disk_full, keeps nothing of it, and goes on serving what fits', async () => {
    const store = await openStore({
      service: 'test',
      ...(await sqlite.fresh()),
      sqlite: { maxSizeBytes: 256 * 1024 },
    });
    try {
      const small = newResponse();
      await store.responses.create(small);

      // The response row goes in, then its input items overflow: the whole write goes.
      const big = newResponse({ inputItems: Array.from({ length: 100 }, () => bulky(4_000)) });
      const error: unknown = await store.responses.create(big).catch((caught) => caught);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ fault: 'disk_full' });
      expect(await store.responses.get(big.id)).toBeUndefined();

      // A completion whose conversation items overflow leaves the response running and the
      // conversation as it was.
      const conversation = await store.conversations.create({
        id: newId('conv'),
        createdAt: 1,
        metadata: null,
        items: [],
      });
      const running = newResponse({ conversationId: conversation.id });
      await store.responses.create(running);
      await expect(
        store.responses.markCompleted(running.id, {
          body: responseBody(running.id, 'completed'),
          at: 2,
          conversationItems: Array.from({ length: 100 }, () => bulky(4_000)),
        }),
      ).rejects.toMatchObject({ name: 'StoreUnavailableError', fault: 'disk_full' });
      expect(await store.responses.get(running.id)).toMatchObject({ status: 'in_progress' });
      expect(
        (await store.conversations.listItems(conversation.id, { limit: 10, order: 'asc' }))?.data,
      ).toEqual([]);

      expect(await store.responses.get(small.id)).toMatchObject({ id: small.id });
      const after = newResponse();
      await store.responses.create(after);
      expect(await store.responses.get(after.id)).toMatchObject({ id: after.id });
    } finally {
      await store.close();
    }
  });

  it('fails to open as misconfigured when the data directory cannot be made', async () => {
    const location = await sqlite.fresh();
    const file = join(location.dataDir ?? '', 'a-file');
    await writeFile(file, '');
    await expect(
      openStore({ service: 'test', dataDir: join(file, 'store') }),
    ).rejects.toMatchObject({ name: 'StoreUnavailableError', fault: 'misconfigured' });
  });
});
