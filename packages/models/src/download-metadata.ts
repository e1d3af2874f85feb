import { open } from 'node:fs/promises';

/**
 * The downloader (ipull 3.9.5, node-llama-cpp 3.22's) keeps its progress as JSON written
 * after the file's last byte and truncates it away at the end; a progress save still in
 * flight can land after that truncate, leaving ~60 bytes of JSON after the model (1
 * download in 200 under load here). Those bytes are trimmed. A split model's first part
 * is smaller than the whole download, so nothing happens to it.
 */
export async function trimDownloadMetadata(path: string, size: number): Promise<void> {
  const file = await open(path, 'r+');
  try {
    const extra = (await file.stat()).size - size;
    if (extra <= 0 || extra > 64 * 1024) return;
    const tail = Buffer.alloc(extra);
    await file.read(tail, 0, extra, size);
    if (!isJson(tail.toString())) return;
    await file.truncate(size);
    await file.sync();
  } finally {
    await file.close();
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
