import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trimDownloadMetadata } from './download-metadata.js';

const MODEL = Buffer.from('GGUF model bytes '.repeat(10));

async function fileWith(content: Buffer): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'download-')), 'model.gguf');
  await writeFile(path, content);
  return path;
}

describe('a downloaded model with the downloader progress left after it', () => {
  it('loses the JSON the downloader wrote after the last byte', async () => {
    const progress = Buffer.from('{"part":0,"chunks":[true,true],"chunkSize":5242880}');
    const path = await fileWith(Buffer.concat([MODEL, progress]));
    await trimDownloadMetadata(path, MODEL.length);
    expect(await readFile(path)).toEqual(MODEL);
  });

  it('is left alone when it has its size, when the extra bytes are not JSON, or when it is one part of several', async () => {
    const cases = [MODEL, Buffer.concat([MODEL, Buffer.from('not json')])];
    for (const content of cases) {
      const path = await fileWith(content);
      await trimDownloadMetadata(path, MODEL.length);
      expect(await readFile(path)).toEqual(content);
    }
    const firstPart = await fileWith(MODEL);
    await trimDownloadMetadata(firstPart, MODEL.length * 3);
    expect(await readFile(firstPart)).toEqual(MODEL);
  });
});
