import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { IsoTime } from '@homelab/contracts';
import type { CorruptLine } from './corrupt-lines';
import { fsyncDir, mkdirDurable } from './durable';
import { eventsDir } from './layout';

/** Quarantine files: `events/quarantine/<date>-<stream>.jsonl`, one per log file (see quarantine.ts). */
export const QUARANTINE_DIR = 'quarantine';

/** One line of a quarantine file. */
export const QuarantineEntry = z.object({
  /** The log file, relative to `events/`, in its plain form (the same line keeps its offset once gzipped). */
  file: z.string(),
  /** Byte offset of the line's start in the (uncompressed) file. */
  offset: z.number().int().nonnegative(),
  /** Bytes of the line without its newline. */
  length: z.number().int().nonnegative(),
  reason: z.string(),
  /** The line's bytes, base64 (they may not be valid UTF-8); at most RAW_COPY_BYTES of them. */
  raw: z.string(),
  /** Bytes in `raw`; below `length` only for a line longer than any event. */
  rawBytes: z.number().int().nonnegative(),
  quarantinedAt: IsoTime,
});
export type QuarantineEntry = z.infer<typeof QuarantineEntry>;

export const quarantineDir = (root: string) => path.join(eventsDir(root), QUARANTINE_DIR);
export const quarantineFile = (root: string, date: string, stream: string) => path.join(quarantineDir(root), `${date}-${stream}.jsonl`);

/** One quarantine file: appends entries for lines it does not hold yet. */
export class QuarantineFile {
  private keys: Set<number> | null = null;

  constructor(
    readonly abs: string,
    private readonly file: string,
  ) {}

  /** Appends (durably) the lines not quarantined before; returns their entries. */
  async add(lines: CorruptLine[], now: Date): Promise<QuarantineEntry[]> {
    this.keys ??= await this.loadKeys();
    const fresh = lines.filter((l) => !this.keys!.has(l.offset));
    if (fresh.length === 0) return [];
    const at = now.toISOString();
    const entries = fresh.map((l): QuarantineEntry => ({
      file: this.file,
      offset: l.offset,
      length: l.length,
      reason: l.reason,
      raw: l.raw.toString('base64'),
      rawBytes: l.raw.length,
      quarantinedAt: at,
    }));
    await mkdirDurable(path.dirname(this.abs));
    const fh = await fs.open(this.abs, 'a+', 0o644);
    try {
      const size = (await fh.stat()).size;
      // After a crash mid-append the file may end in a torn entry: start on a line of our own.
      const torn = size > 0 && (await fh.read(Buffer.alloc(1), 0, 1, size - 1)).buffer[0] !== 0x0a;
      await fh.writeFile((torn ? '\n' : '') + entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
      await fh.datasync();
      if (size === 0) await fsyncDir(path.dirname(this.abs));
    } finally {
      await fh.close();
    }
    for (const e of entries) this.keys.add(e.offset);
    return entries;
  }

  /** Offsets already quarantined from this log file (a date and stream map to one quarantine file). */
  private async loadKeys(): Promise<Set<number>> {
    const keys = new Set<number>();
    let text: string;
    try {
      text = await fs.readFile(this.abs, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return keys;
      throw err;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        const res = QuarantineEntry.safeParse(JSON.parse(line));
        if (res.success && res.data.file === this.file) keys.add(res.data.offset);
      } catch {
        // A torn entry (crash while appending): the line is quarantined again, whole.
      }
    }
    return keys;
  }
}

/** Entries of one quarantine file (for operators' tools and tests); invalid lines are left out. */
export async function readQuarantine(root: string, date: string, stream: string): Promise<QuarantineEntry[]> {
  let text: string;
  try {
    text = await fs.readFile(quarantineFile(root, date, stream), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: QuarantineEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      const res = QuarantineEntry.safeParse(JSON.parse(line));
      if (res.success) out.push(res.data);
    } catch {
      // skip a torn entry
    }
  }
  return out;
}
