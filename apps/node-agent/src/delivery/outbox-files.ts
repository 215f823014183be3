import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { HomelabEvent } from '@homelab/contracts';
import { AgentError } from '../errors';
import { ensureDir, fsyncDir, readJsonFile, writeJsonAtomic } from '../state/fs-atomic';
import type { OutboxEntry } from './outbox-entries';

const SEGMENT_NAME = /^seg-(\d{12})\.jsonl$/;

/** `<outbox>/acked.json`: the hub had every seq ≤ ackedUpTo. Only saves resends after a restart; losing it is harmless. */
export const OutboxFloor = z.object({ ackedUpTo: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

export interface Segment {
  id: number;
  size: number;
  /** Highest seq written to it (0 when none). */
  maxSeq: number;
}

export interface LoadedOutbox {
  /** Unacknowledged entries (seq above the floor), in seq order, each seq once. */
  entries: OutboxEntry[];
  /** In seq order. */
  segments: Segment[];
  bad: number;
  floor: number;
  nextId: number;
  /** The segment written last, and where its last whole line ends. */
  newest: { seg: Segment; cleanSize: number } | null;
}

export interface SegmentScan {
  entries: OutboxEntry[];
  /** Lines that are not a valid event: garbage, or a torn last line. */
  bad: number;
  size: number;
  /** Bytes up to and including the last newline; appends may only continue from here. */
  cleanSize: number;
}

/**
 * The outbox's files: `seg-<id>.jsonl` segments of one event per line, plus
 * the ack floor. All file-system access of the outbox lives here, so the
 * Outbox itself is bookkeeping plus calls to these few operations.
 */
export class SegmentFiles {
  constructor(readonly dir: string) {}

  path(id: number): string {
    return path.join(this.dir, `seg-${String(id).padStart(12, '0')}.jsonl`);
  }

  async init(): Promise<void> {
    await ensureDir(this.dir);
  }

  /** Reads every segment (adopting a legacy single-file outbox first) and the ack floor. */
  async load(legacyFile?: string): Promise<LoadedOutbox> {
    await this.init();
    const ids = await this.list();
    const legacyId = (ids.at(-1) ?? 0) + 1;
    if (legacyFile && (await this.adopt(legacyFile, legacyId))) ids.push(legacyId);
    const floor = await this.readFloor();
    const bySeq = new Map<number, OutboxEntry>();
    const segments: Segment[] = [];
    let bad = 0;
    let newest: LoadedOutbox['newest'] = null;
    for (const id of ids) {
      const scan = await this.read(id);
      bad += scan.bad;
      for (const e of scan.entries) if (e.seq > floor) bySeq.set(e.seq, e);
      const seg = { id, size: scan.size, maxSeq: scan.entries.reduce((m, e) => Math.max(m, e.seq), 0) };
      segments.push(seg);
      newest = { seg, cleanSize: scan.cleanSize };
    }
    return {
      entries: [...bySeq.values()].sort((a, b) => a.seq - b.seq),
      segments: segments.sort((a, b) => a.maxSeq - b.maxSeq),
      bad,
      floor,
      nextId: (ids.at(-1) ?? 0) + 1,
      newest,
    };
  }

  async list(): Promise<number[]> {
    const names = await fs.readdir(this.dir);
    return names
      .map((n) => SEGMENT_NAME.exec(n)?.[1])
      .filter((m): m is string => m !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** Reads one segment; invalid lines are counted and skipped, never thrown. */
  async read(id: number): Promise<SegmentScan> {
    const buf = await fs.readFile(this.path(id));
    const entries: OutboxEntry[] = [];
    let bad = 0;
    for (const line of buf.toString('utf8').split('\n')) {
      if (!line) continue;
      const seq = seqOf(line);
      if (seq === null) bad += 1;
      else entries.push({ seq, line, bytes: Buffer.byteLength(line) + 1 });
    }
    return { entries, bad, size: buf.length, cleanSize: buf.lastIndexOf(0x0a) + 1 };
  }

  /** Opens a segment for appending; a new file's name is made durable (directory fsync) before any event is. */
  async openAppend(id: number, created: boolean): Promise<fs.FileHandle> {
    const fh = await fs.open(this.path(id), 'a', 0o600);
    if (created) {
      try {
        await fsyncDir(this.dir);
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
    }
    return fh;
  }

  async truncate(id: number, size: number): Promise<void> {
    await fs.truncate(this.path(id), size);
  }

  /** Deleting needs no fsync: a segment that comes back after a crash is only resent, and the hub dedups. */
  async remove(id: number): Promise<void> {
    await fs.rm(this.path(id), { force: true });
  }

  /** Moves a pre-segment `outbox.jsonl` in as segment `id`; returns false when there is none. */
  async adopt(file: string, id: number): Promise<boolean> {
    try {
      await fs.rename(file, this.path(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw new AgentError('io_failed', `could not move ${file} into ${this.dir}`, { cause: err });
    }
    await fsyncDir(this.dir);
    await fsyncDir(path.dirname(file));
    return true;
  }

  async readFloor(): Promise<number> {
    const res = await readJsonFile(this.floorFile(), OutboxFloor).catch(() => ({ kind: 'missing' as const }));
    return res.kind === 'ok' ? res.value.ackedUpTo : 0;
  }

  async writeFloor(ackedUpTo: number): Promise<void> {
    await writeJsonAtomic(this.floorFile(), OutboxFloor.parse({ ackedUpTo }));
  }

  private floorFile(): string {
    return path.join(this.dir, 'acked.json');
  }
}

/**
 * The highest seq the hub acked, saved every 1000 seqs and at close — one
 * write at a time, so it only moves forward — so a restart does not resend
 * what the active segment still holds although the hub has it.
 */
export class AckFloor {
  private writing: Promise<void> = Promise.resolve();

  private value = 0;
  private saved = 0;

  constructor(
    private readonly files: SegmentFiles,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** What the files said at open. */
  reset(upTo: number): void {
    this.value = this.saved = upTo;
  }

  get upTo(): number {
    return this.value;
  }

  advance(seq: number): void {
    this.value = Math.max(this.value, seq);
    if (this.value - this.saved >= 1000) void this.save();
  }

  save(): Promise<void> {
    if (this.value <= this.saved) return this.writing;
    const upTo = (this.saved = this.value);
    this.writing = this.writing.then(() => this.files.writeFloor(upTo).catch(this.onError));
    return this.writing;
  }
}

function seqOf(line: string): number | null {
  try {
    const res = HomelabEvent.safeParse(JSON.parse(line));
    return res.success ? res.data.seq : null;
  } catch {
    return null;
  }
}
