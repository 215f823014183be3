import { z } from 'zod';
import { preview, type Logger } from '@homelab/logging';

export type RejectReason = 'too_large' | 'not_json' | 'invalid_schema' | 'wrong_node';

export type Decoded<T> = { ok: true; data: T } | { ok: false; reason: RejectReason; detail?: string };

/** Size check, JSON.parse and zod safeParse of one inbound MQTT payload. Never throws. */
export function decodePayload<S extends z.ZodType>(payload: Buffer, schema: S, maxBytes: number): Decoded<z.infer<S>> {
  if (payload.length > maxBytes) return { ok: false, reason: 'too_large', detail: `${payload.length} bytes` };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'invalid_schema', detail: z.prettifyError(parsed.error) };
  return { ok: true, data: parsed.data };
}

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
