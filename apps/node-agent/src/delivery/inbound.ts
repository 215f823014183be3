import type { DecodeFailure } from '@homelab/contracts';
import { preview, type Logger } from '@homelab/logging';

/** Why an inbound message was refused: it did not decode (libs/contracts wire.ts), or it names another node. */
export type RejectReason = DecodeFailure | 'wrong_node';

/** Counts refused inbound messages by reason (exposed for health output and tests). */
export class InboundCounters {
  readonly rejected: Record<RejectReason, number> = { too_large: 0, not_json: 0, invalid_schema: 0, wrong_node: 0 };

  /** Counts and logs one refused message; the payload only ever appears truncated. */
  reject(log: Logger, reason: RejectReason, topic: string, payload: Buffer, detail?: string): void {
    this.rejected[reason] += 1;
    log.warn({ reason, topic, detail: detail?.slice(0, 500), payload: preview(payload) }, 'inbound message refused');
  }

  total(): number {
    return Object.values(this.rejected).reduce((a, b) => a + b, 0);
  }
}
