import type { QuietHours } from '@homelab/contracts';

/** Minutes since midnight of `nowMs` in `timeZone` (the hub's own when absent). */
export function minutesOfDay(nowMs: number, timeZone?: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(timeZone ? { timeZone } : {}) }).formatToParts(
    nowMs,
  );
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `nowMs` falls in the quiet hours; `from` after `to` spans midnight, `from` = `to` is never. */
export function isQuiet(q: QuietHours | undefined, nowMs: number): boolean {
  if (!q) return false;
  const now = minutesOfDay(nowMs, q.timeZone);
  const from = toMinutes(q.from);
  const to = toMinutes(q.to);
  if (from === to) return false;
  return from < to ? now >= from && now < to : now >= from || now < to;
}

/**
 * A sliding one-minute window per notifier: `take` says whether one more
 * message may go now and, if so, records it. Pure over the injected time.
 */
export class RateWindow {
  private sent: number[] = [];

  constructor(private readonly perMinute: number) {}

  take(nowMs: number): boolean {
    this.sent = this.sent.filter((t) => nowMs - t < 60_000);
    if (this.sent.length >= this.perMinute) return false;
    this.sent.push(nowMs);
    return true;
  }
}

/** Delay before retrying a notifier after `failures` failed deliveries in a row (doubling, capped). */
export function retryDelayMs(failures: number, baseMs = 2_000, maxMs = 300_000): number {
  if (failures <= 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
}
