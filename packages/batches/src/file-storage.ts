import { randomBytes } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FileTooLargeError, TooManyLinesError } from './errors.js';

/** What was written: the name inside the directory, its size and its JSONL lines. */
export interface SavedFile {
  storedName: string;
  bytes: number;
  lines: number;
}

export interface UploadLimits {
  maxBytes: number;
  maxLines: number;
  /** The settings that raise them, named in the errors. */
  bytesSetting: string;
  linesSetting: string;
}

/** A file being written: lines go in, `commit` makes it whole under its name at once. */
export interface FileWriter {
  /** Appends `text` and a newline (one JSONL line). */
  writeLine(text: string): Promise<void>;
  /** Flushes it to disk and gives it its name; until then nobody sees it. */
  commit(): Promise<SavedFile>;
  /** Drops what was written. */
  abort(): Promise<void>;
}

const NEWLINE = 0x0a;

/**
 * The bytes of a service's files, in one directory (created 0700). Every file is written
 * under a temporary name, synced, then renamed: a crash, a kill -9 or a full disk leaves
 * either the whole file or none of it, never a truncated one under its real name.
 */
export class FileStorage {
  constructor(
    readonly dir: string,
    /** New names (random; tests choose theirs). */
    private readonly newName: () => string = () => randomBytes(16).toString('hex'),
  ) {}

  async ensure(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Saves an upload; over a limit, nothing is kept and the limit's error is thrown. */
  async save(
    source: AsyncIterable<Buffer>,
    limits: UploadLimits,
    /** Whether the source stopped at its size limit (multipart truncates at `maxBytes`). */
    truncated: () => boolean = () => false,
  ): Promise<SavedFile> {
    const writer = await this.writer();
    let bytes = 0;
    let newlines = 0;
    let last = NEWLINE;
    try {
      for await (const chunk of source) {
        bytes += chunk.length;
        if (bytes > limits.maxBytes)
          throw new FileTooLargeError(limits.maxBytes, limits.bytesSetting);
        for (
          let index = chunk.indexOf(NEWLINE);
          index !== -1;
          index = chunk.indexOf(NEWLINE, index + 1)
        ) {
          newlines += 1;
        }
        if (chunk.length > 0) last = chunk[chunk.length - 1] ?? NEWLINE;
        await writer.writeBytes(chunk);
      }
      if (truncated()) throw new FileTooLargeError(limits.maxBytes, limits.bytesSetting);
      const lines = newlines + (last === NEWLINE ? 0 : 1);
      if (lines > limits.maxLines)
        throw new TooManyLinesError(lines, limits.maxLines, limits.linesSetting);
      const saved = await writer.commit();
      return { ...saved, lines };
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  /** A new file written a line at a time (a batch's output). */
  async writer(): Promise<FileWriter & { writeBytes(bytes: Buffer): Promise<void> }> {
    const storedName = this.newName();
    const partial = this.#path(`${storedName}.partial`);
    const handle: FileHandle = await open(partial, 'w', 0o600);
    let bytes = 0;
    let lines = 0;
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      await handle.close();
    };
    const writeBytes = async (data: Buffer) => {
      // FileHandle.write may write less than asked; loop until all of it is down.
      for (let offset = 0; offset < data.length; ) {
        const { bytesWritten } = await handle.write(data, offset, data.length - offset);
        offset += bytesWritten;
      }
      bytes += data.length;
    };
    return {
      writeBytes,
      writeLine: async (text) => {
        await writeBytes(Buffer.from(`${text}\n`, 'utf8'));
        lines += 1;
      },
      commit: async () => {
        await handle.sync();
        await close();
        await rename(partial, this.#path(storedName));
        return { storedName, bytes, lines };
      },
      abort: async () => {
        await close().catch(() => {});
        await rm(partial, { force: true });
      },
    };
  }

  /** The file's bytes; undefined when they are not here (deleted by hand, or on another host). */
  async read(storedName: string): Promise<ReadStream | undefined> {
    try {
      const handle = await open(this.#path(storedName), 'r');
      return handle.createReadStream();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async remove(storedName: string): Promise<void> {
    await rm(this.#path(storedName), { force: true });
  }

  #path(name: string): string {
    // Names are ours (hex), never a client's: no path can escape the directory.
    if (!/^[\w-]+(\.partial)?$/.test(name)) throw new Error(`not a stored file name: ${name}`);
    return join(this.dir, name);
  }
}
