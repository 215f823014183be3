import type { NotifierName } from '@homelab/contracts';
import type { Delivered, OutboxMessage } from '../outbox';

export interface DeliverOptions {
  /** First delivery of this message to this notifier (else an edit or a follow-up). */
  first: boolean;
  /** Keys of the items whose state changed since the last delivery. */
  changed: string[];
  /** Quiet hours in `silent` mode: no sound (Telegram), minimum priority (ntfy), `quiet: true` (webhook). */
  silent: boolean;
  nowMs: number;
  /** Aborted when the hub stops: a request in flight does not hold the stop up. */
  signal?: AbortSignal;
}

/** One notifier (docs/notifications.md). Each call has its own timeout; a failure throws. */
export interface Channel {
  readonly name: NotifierName;
  /**
   * Tells the notifier where the message stands now. `delivered` is the
   * record of earlier deliveries (Telegram message ids), updated in place as
   * each part succeeds so a partial failure is not repeated.
   */
  deliver(m: OutboxMessage, delivered: Delivered, opts: DeliverOptions): Promise<void>;
  /** `homelab notify test`: one plain message. */
  sendTest(text: string): Promise<void>;
  /** Telegram in webhook mode: an update posted to the hub (see TelegramChannel.handleWebhook). */
  handleWebhook?(secretToken: string | undefined, update: unknown): Promise<boolean | null>;
  /** Why taking input (Telegram's long polling) fails now, if it does. */
  receiveError?(): string | null;
  start?(): void;
  stop?(): Promise<void>;
}

/** Why an HTTP answer failed, with the start of its body (what the server said). */
export async function httpFailure(what: string, res: Response): Promise<Error> {
  const body = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
  return new Error(`${what} answered ${res.status}${body ? `: ${body}` : ''}`);
}

export const REQUEST_TIMEOUT_MS = 10_000;

/** An error in words for an operator, with the cause grammY wraps a network failure in (`HttpError.error`). */
export function describeError(err: unknown): string {
  const e = err as Error & { error?: unknown; cause?: unknown };
  const inner = (e.error ?? e.cause) as (Error & { code?: string }) | undefined;
  const why = inner instanceof Error ? `: ${inner.code ? `${inner.code} ` : ''}${inner.message}` : '';
  return `${e.message}${why && !e.message.includes(inner!.message) ? why : ''}`;
}

/** The request's own timeout, and the caller's abort when there is one. */
export const requestSignal = (signal?: AbortSignal): AbortSignal =>
  signal ? AbortSignal.any([AbortSignal.timeout(REQUEST_TIMEOUT_MS), signal]) : AbortSignal.timeout(REQUEST_TIMEOUT_MS);
