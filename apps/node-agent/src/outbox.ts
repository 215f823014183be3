import fs from 'node:fs/promises';
import path from 'node:path';
import { HomelabEvent } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { AgentError, errorMessage } from './errors';
import { ensureDir, writeFileAtomic } from './fs-atomic';

export interface OutboxEntry {
  seq: number;
  /** The event as one JSON line (no newline). */
  line: string;
  bytes: number;
}

export interface OutboxStats {
  entries: number;
  /** Bytes of unacknowledged events (what the cap bounds). */
  bytes: number;
  /** Bytes in the file, including acknowledged lines not yet compacted away. */
  fileBytes: number;
  /** Events dropped, oldest first, to stay within the cap. */
  dropped: number;
  /** Appends that could not be made durable (kept in memory and still sent). */
  writeFailures: number;
}

export interface OutboxOptions {
  file: string;
  maxBytes: number;
  log: Logger;
  /** Compaction starts once acknowledged lines in the file reach this many bytes. Default 1 MiB. */
  compactAfterBytes?: number;
}

/**
 * Events not yet acknowledged by the hub, in `<stateDir>/outbox.jsonl`: one
 * event per line, appended and fdatasync'ed before the event is published.
 * Acks drop entries from memory; the file is truncated when nothing is left
 * and rewritten atomically once acknowledged lines pile up. After a crash the
 * file may still hold acknowledged lines: they are sent again, and the hub's
 * dedup by (node, seq) absorbs them. A torn last line is dropped at open.
 */
export class Outbox {
  private entries: OutboxEntry[] = [];
  private liveBytes = 0;
  private fileBytes = 0;
  private dropped = 0;
  private writeFailures = 0;
  private fh: fs.FileHandle | null = null;
  /** The file no longer matches fileBytes (a failed write could not be undone): rewrite before appending. */
  private dirty = false;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: OutboxOptions) {}

  async open(): Promise<void> {
    await ensureDir(path.dirname(this.opts.file));
    let text = '';
    try {
      text = await fs.readFile(this.opts.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new AgentError('io_failed', `could not read ${this.opts.file}`, { cause: err });
    }
    const lines = text.split('\n');
    let bad = 0;
    const bySeq = new Map<number, OutboxEntry>();
    for (const line of lines) {
      if (!line) continue;
      const ev = parseLine(line);
      if (!ev) bad += 1;
      else bySeq.set(ev.seq, { seq: ev.seq, line, bytes: Buffer.byteLength(line) + 1 });
    }
    this.entries = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    this.liveBytes = this.entries.reduce((n, e) => n + e.bytes, 0);
    this.fileBytes = Buffer.byteLength(text);
    this.enforceCap(0);
    if (bad) this.opts.log.warn({ file: this.opts.file, dropped: bad }, 'outbox: dropped torn or invalid lines');
    if (bad || this.fileBytes !== this.liveBytes) await this.rewrite();
    this.fh = await fs.open(this.opts.file, 'a', 0o600);
  }

  async close(): Promise<void> {
    await this.chain;
    await this.fh?.close();
    this.fh = null;
  }

  /** Unacknowledged entries in seq order (do not mutate). */
  pending(): readonly OutboxEntry[] {
    return this.entries;
  }

  /** Index of the first entry with seq > `seq`. */
  indexAfter(seq: number): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid]!.seq <= seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  maxSeq(): number {
    return this.entries.at(-1)?.seq ?? 0;
  }

  stats(): OutboxStats {
    return { entries: this.entries.length, bytes: this.liveBytes, fileBytes: this.fileBytes, dropped: this.dropped, writeFailures: this.writeFailures };
  }

  /** Makes one event durable (write + fdatasync). Seqs must ascend. A failed write keeps it in memory only. */
  append(seq: number, line: string): Promise<void> {
    return this.serial(async () => {
      const entry = { seq, line, bytes: Buffer.byteLength(line) + 1 };
      this.enforceCap(entry.bytes);
      this.entries.push(entry);
      this.liveBytes += entry.bytes;
      try {
        if (this.dirty) await this.rewrite();
        else await this.write(`${line}\n`);
      } catch (err) {
        this.writeFailures += 1;
        this.opts.log.error({ err: errorMessage(err), seq }, 'outbox: event kept in memory only (write failed)');
        await this.undoPartialWrite();
      }
    });
  }

  /** The hub has every seq ≤ upToSeq on disk: forget them. Returns how many entries left. */
  ack(upToSeq: number): Promise<number> {
    return this.serial(async () => {
      const n = this.indexAfter(upToSeq);
      if (n === 0) return 0;
      for (const e of this.entries.splice(0, n)) this.liveBytes -= e.bytes;
      await this.maybeCompact();
      return n;
    });
  }

  private enforceCap(incoming: number): void {
    while (this.entries.length && this.liveBytes + incoming > this.opts.maxBytes) {
      this.liveBytes -= this.entries.shift()!.bytes;
      this.dropped += 1;
    }
  }

  private async maybeCompact(): Promise<void> {
    const dead = this.fileBytes - this.liveBytes;
    const threshold = this.opts.compactAfterBytes ?? 1024 * 1024;
    try {
      if (this.entries.length === 0 && this.fileBytes > 0 && this.fh) {
        await this.fh.truncate(0);
        await this.fh.datasync();
        this.fileBytes = 0;
        this.dirty = false;
      } else if (dead >= threshold && dead >= this.fileBytes / 4) {
        await this.rewrite();
      }
    } catch (err) {
      this.opts.log.warn({ err: errorMessage(err) }, 'outbox: compaction failed; will retry');
      this.dirty = true;
    }
  }

  private async write(text: string): Promise<void> {
    if (!this.fh) throw new AgentError('io_failed', 'outbox is not open');
    await this.fh.appendFile(text, 'utf8');
    await this.fh.datasync();
    this.fileBytes += Buffer.byteLength(text);
  }

  /** Atomically replaces the file with exactly the live entries. */
  private async rewrite(): Promise<void> {
    const text = this.entries.map((e) => `${e.line}\n`).join('');
    await writeFileAtomic(this.opts.file, text);
    this.fileBytes = this.liveBytes;
    this.dirty = false;
    if (this.fh) {
      await this.fh.close();
      this.fh = await fs.open(this.opts.file, 'a', 0o600);
    }
  }

  private async undoPartialWrite(): Promise<void> {
    await this.fh?.truncate(this.fileBytes).catch(() => undefined);
    // The failed entry is not in the file: the next append rewrites the whole file, including it.
    this.dirty = true;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}

function parseLine(line: string): HomelabEvent | null {
  try {
    const res = HomelabEvent.safeParse(JSON.parse(line));
    return res.success ? res.data : null;
  } catch {
    return null;
  }
}
