import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * sha256 of model files, as Ollama reports `digest`: computed once per file
 * version (path, size, mtime) in the background, one file at a time so a
 * listing of many models never reads them all at once; until it is done the
 * digest is unknown (empty).
 */
export class FileDigests {
  private readonly known = new Map<string, { version: string; digest: string | undefined }>();
  /** The hashing in progress; the next file waits for it. */
  private queue: Promise<void> = Promise.resolve();

  /** The hex digest if computed, else undefined (and the computation is queued). */
  digestOf(path: string, size: number, mtimeMs: number): string | undefined {
    const version = `${size}:${mtimeMs}`;
    const entry = this.known.get(path);
    if (entry?.version === version) return entry.digest;
    const pending = { version, digest: undefined as string | undefined };
    this.known.set(path, pending);
    this.queue = this.queue.then(() =>
      hashFile(path).then(
        (digest) => {
          pending.digest = digest;
        },
        () => {
          // Unreadable now: forget it, so a later listing tries again.
          if (this.known.get(path) === pending) this.known.delete(path);
        },
      ),
    );
    return undefined;
  }
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}
