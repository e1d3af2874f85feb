import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * sha256 of model files, as Ollama reports `digest`: computed once per file
 * version (path, size, mtime) in the background, since hashing gigabytes takes
 * seconds; until it is done the digest is unknown (empty).
 */
export class FileDigests {
  private readonly known = new Map<string, { version: string; digest: string | undefined }>();

  /** The hex digest if computed, else undefined (and the computation is started). */
  digestOf(path: string, size: number, mtimeMs: number): string | undefined {
    const version = `${size}:${mtimeMs}`;
    const entry = this.known.get(path);
    if (entry?.version === version) return entry.digest;
    const pending = { version, digest: undefined as string | undefined };
    this.known.set(path, pending);
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => {
        pending.digest = hash.digest('hex');
      })
      .on('error', () => {
        // Unreadable now: forget it, so a later listing tries again.
        if (this.known.get(path) === pending) this.known.delete(path);
      });
    return undefined;
  }
}
