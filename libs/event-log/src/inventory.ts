import fs from 'node:fs/promises';
import { absFile } from './layout';
import { scanLog } from './scan';

export interface LogInventory {
  streams: number;
  files: number;
  /** Bytes a full read goes through: plain sizes plus the uncompressed sizes of gzipped days. */
  bytes: number;
}

/** gzip's trailer holds the uncompressed size modulo 2^32: exact for any day file below 4 GiB. */
export async function gzUncompressedSize(file: string): Promise<number> {
  const fh = await fs.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 18) return 0;
    const b = Buffer.alloc(4);
    await fh.read(b, 0, 4, size - 4);
    return b.readUInt32LE(0);
  } finally {
    await fh.close();
  }
}

/** What a replay will read (the files a reader would pick), for progress bars. */
export async function logInventory(root: string): Promise<LogInventory> {
  const index = await scanLog(root);
  const out: LogInventory = { streams: index.size, files: 0, bytes: 0 };
  for (const refs of index.values()) {
    for (const ref of refs) {
      const abs = absFile(root, ref.rel);
      try {
        out.bytes += ref.kind === 'gz' ? await gzUncompressedSize(abs) : (await fs.stat(abs)).size;
        out.files++;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // compressed or removed meanwhile
      }
    }
  }
  return out;
}

/** Bytes the event log takes on disk now (plain and gzipped day files as they are), for /metrics. */
export async function logBytesOnDisk(root: string): Promise<number> {
  const index = await scanLog(root);
  let bytes = 0;
  for (const refs of index.values()) {
    for (const ref of refs) {
      try {
        bytes += (await fs.stat(absFile(root, ref.rel))).size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // compressed or removed meanwhile
      }
    }
  }
  return bytes;
}
