import path from 'node:path';
import { z } from 'zod';
import { AgentError } from '../errors';
import { ensureDir, readJsonFile, writeJsonAtomic } from '../state/fs-atomic';

/** `<stateDir>/seq.json`: no seq below `leaseEnd` was ever handed out by an earlier process… or might have been. */
export const SeqLease = z.object({ leaseEnd: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

/** Seqs per lease write. A restart skips the unused rest (≤ one block); a 20,000-event burst costs two writes. */
export const DEFAULT_SEQ_BLOCK = 10_000;

/**
 * Per-node event sequence that survives restarts without an fsync per event:
 * no seq at or beyond the persisted lease is handed out; the lease is moved
 * `block` further (atomic write + fsync) in the background once half of it is
 * used, so a burst rarely waits for it. A restart continues at the lease end,
 * so a seq is never reused; the unused rest of a block is a harmless gap.
 */
export class SeqAllocator {
  private nextSeq = 1;
  private leaseEnd = 1;
  private chain: Promise<unknown> = Promise.resolve();
  private extending: Promise<void> | null = null;
  private opened = false;

  constructor(
    private readonly stateDir: string,
    private readonly block = DEFAULT_SEQ_BLOCK,
  ) {}

  get file(): string {
    return path.join(this.stateDir, 'seq.json');
  }

  /** Reads the lease. A corrupt lease stops the agent: guessing could reuse seqs the hub deduplicates away. */
  async open(): Promise<void> {
    await ensureDir(this.stateDir);
    const res = await readJsonFile(this.file, SeqLease);
    if (res.kind === 'corrupt') {
      throw new AgentError('state_corrupt', `${this.file} is unreadable (${res.problem}); move it aside with a leaseEnd above the last seq the hub stored`);
    }
    const start = res.kind === 'ok' ? Math.max(1, res.value.leaseEnd) : 1;
    this.nextSeq = start;
    this.leaseEnd = start;
    this.opened = true;
  }

  /** Never hand out anything ≤ `seq` (e.g. the highest seq still in the outbox). */
  ensureAbove(seq: number): void {
    if (seq >= this.nextSeq) this.nextSeq = seq + 1;
  }

  /** The next seq; persists a new lease first when the current one is used up. Calls are serialized. */
  next(): Promise<number> {
    const run = this.chain.then(() => this.allocate());
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * The next seq without waiting, or null when the lease must be extended
   * first (then call next()). For a single caller that does not mix it with
   * a pending next(): a hot path with no promise per event.
   */
  tryNext(): number | null {
    if (!this.opened || this.nextSeq >= this.leaseEnd) return null;
    this.prefetch();
    return this.nextSeq++;
  }

  /** Highest seq handed out so far (0 when none). */
  peekLast(): number {
    return this.nextSeq - 1;
  }

  private async allocate(): Promise<number> {
    if (!this.opened) throw new AgentError('state_corrupt', 'SeqAllocator.open() was not called');
    while (this.nextSeq >= this.leaseEnd) await this.extend();
    this.prefetch();
    return this.nextSeq++;
  }

  /** Half the lease used: extend it now, while the rest is handed out. A failure surfaces in next(). */
  private prefetch(): void {
    if (!this.extending && this.leaseEnd - this.nextSeq <= this.block / 2) this.extend().catch(() => undefined);
  }

  /** One lease write at a time, so a slower older write can never land after a newer one. */
  private extend(): Promise<void> {
    this.extending ??= (async () => {
      try {
        const leaseEnd = Math.max(this.leaseEnd, this.nextSeq) + this.block;
        await writeJsonAtomic(this.file, SeqLease.parse({ leaseEnd }));
        this.leaseEnd = Math.max(this.leaseEnd, leaseEnd);
      } finally {
        this.extending = null;
      }
    })();
    return this.extending;
  }
}
