import path from 'node:path';
import { z } from 'zod';
import { AgentError } from './errors';
import { ensureDir, readJsonFile, writeJsonAtomic } from './fs-atomic';

/** `<stateDir>/seq.json`: no seq below `leaseEnd` was ever handed out by an earlier process… or might have been. */
export const SeqLease = z.object({ leaseEnd: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

export const DEFAULT_SEQ_BLOCK = 1000;

/**
 * Per-node event sequence that survives restarts without an fsync per event:
 * before handing out a seq at or beyond the persisted lease, the lease is moved
 * `block` further (atomic write + fsync). A restart continues at the lease end,
 * so a seq is never reused; the unused rest of a block is a harmless gap.
 */
export class SeqAllocator {
  private nextSeq = 1;
  private leaseEnd = 1;
  private chain: Promise<unknown> = Promise.resolve();
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

  /** Highest seq handed out so far (0 when none). */
  peekLast(): number {
    return this.nextSeq - 1;
  }

  private async allocate(): Promise<number> {
    if (!this.opened) throw new AgentError('state_corrupt', 'SeqAllocator.open() was not called');
    if (this.nextSeq >= this.leaseEnd) {
      const leaseEnd = this.nextSeq + this.block;
      await writeJsonAtomic(this.file, SeqLease.parse({ leaseEnd }));
      this.leaseEnd = leaseEnd;
    }
    return this.nextSeq++;
  }
}
