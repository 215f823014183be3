import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Bytes of a plain file from `start`, up to `limit` (the durable size when a
 * writer in this process says so), in chunks: memory stays flat whatever the
 * file size. Yields views of one reused buffer; the consumer must copy what it keeps.
 */
export async function* plainChunks(file: string, start: number, limit: number, chunkBytes = READ_CHUNK_BYTES): AsyncGenerator<Buffer> {
  const fh = await fs.open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    let pos = start;
    while (pos < limit) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(chunkBytes, limit - pos), pos);
      if (bytesRead === 0) return;
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** Decompressed bytes of a `.jsonl.gz` file, skipping the first `start` (positions count uncompressed bytes). */
export async function* gzChunks(file: string, start: number): AsyncGenerator<Buffer> {
  let skip = start;
  const stream = createReadStream(file).pipe(createGunzip());
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    yield skip > 0 ? chunk.subarray(skip) : chunk;
    skip = 0;
  }
}

/** True when `offset` is 0 or right after a newline: a position a reader can resume from. */
export async function isLineStart(file: string, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  const fh = await fs.open(file, 'r');
  try {
    const b = Buffer.alloc(1);
    const { bytesRead } = await fh.read(b, 0, 1, offset - 1);
    return bytesRead === 1 && b[0] === 0x0a;
  } finally {
    await fh.close();
  }
}
