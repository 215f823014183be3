import fs from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from './durable';

/** A write to the log failed; nothing of it stays in the file. */
export class EventLogWriteError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EventLogWriteError';
  }
}

const errCode = (err: unknown) => (err as NodeJS.ErrnoException | undefined)?.code;

/**
 * One open log file, written only by the group-commit flusher. `committed` is
 * the size after the last successful fdatasync: readers in the same process
 * never read past it, so they never see bytes a failed write may still take back.
 */
export class AppendFile {
  /** Size the file must have: everything before it is durable. */
  private size: number;
  private committedSize: number;
  /** A failed write could not be taken back yet; retried before the next write. */
  private dirty = false;

  private constructor(
    readonly rel: string,
    private readonly fh: FileHandle,
    size: number,
  ) {
    this.size = size;
    this.committedSize = size;
  }

  /** Opens for append, creating the file (and fsyncing its directory, so the entry survives a crash) when new. */
  static async open(abs: string, rel: string): Promise<AppendFile> {
    const fh = await fs.open(abs, 'a');
    try {
      const size = (await fh.stat()).size;
      // An empty file is new (or its creation was never made durable): fsync
      // its directory so the entry survives a crash before we ack into it.
      if (size === 0) await fsyncDir(path.dirname(abs));
      return new AppendFile(rel, fh, size);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  get committed(): number {
    return this.committedSize;
  }

  /**
   * Writes all bytes, then fdatasync. On any failure the file is cut back to
   * its previous size, so a failed append never leaves a partial line behind.
   */
  async append(data: Buffer): Promise<void> {
    if (this.dirty) await this.rollback(undefined);
    try {
      let off = 0;
      while (off < data.length) {
        const { bytesWritten } = await this.fh.write(data, off, data.length - off, null);
        off += bytesWritten;
      }
      await this.fh.datasync();
    } catch (err) {
      await this.rollback(err);
      throw new EventLogWriteError(`could not append ${data.length} bytes to events/${this.rel}: ${errCode(err) ?? (err as Error).message}`, errCode(err), {
        cause: err,
      });
    }
    this.size += data.length;
    this.committedSize = this.size;
  }

  private async rollback(cause: unknown): Promise<void> {
    try {
      await this.fh.truncate(this.size);
      this.dirty = false;
    } catch (err) {
      this.dirty = true;
      throw new EventLogWriteError(
        `events/${this.rel} has a partial write that could not be cut back to ${this.size} bytes (${errCode(err) ?? (err as Error).message}); it is retried before the next write and repaired at the next open`,
        errCode(cause) ?? errCode(err),
        { cause: cause ?? err },
      );
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
