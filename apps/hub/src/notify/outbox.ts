import { z } from 'zod';
import { NotifierName, NotifyItem, type NotifyItem as Item } from '@homelab/contracts';

/** Per notifier: the state of each item as last delivered, and where the message lives (Telegram: one per chat). */
export const Delivered = z.object({
  states: z.record(z.string(), z.string()),
  refs: z.array(z.object({ chatId: z.number(), messageId: z.number() })).default([]),
  /** Deliveries made for this message, so follow-ups get distinct ids. */
  count: z.number().int().nonnegative().default(0),
});
export type Delivered = z.infer<typeof Delivered>;

export const OutboxMessage = z.object({
  key: z.string(),
  node: z.string(),
  openedAt: z.string(),
  items: z.record(z.string(), NotifyItem),
  delivered: z.partialRecord(NotifierName, Delivered),
});
export type OutboxMessage = z.infer<typeof OutboxMessage>;

/**
 * `<root>/state/notify-outbox.json` (docs/notifications.md "Delivery"): items
 * seen but still inside the grace period, and the messages with what each
 * notifier has been told. Rebuilt from the action and world files, so a
 * restart resumes where it stopped.
 */
export const Outbox = z.object({
  version: z.literal(1),
  watching: z.record(z.string(), NotifyItem),
  messages: z.record(z.string(), OutboxMessage),
});
export type Outbox = z.infer<typeof Outbox>;

export const emptyOutbox = (): Outbox => ({ version: 1, watching: {}, messages: {} });

/** An item needs nothing more once it reached one of these. */
export const isClosed = (item: Item): boolean => ['completed', 'failed', 'rejected', 'cancelled', 'online'].includes(item.state);

/** The keys the outbox follows, so the caller can fetch their current state even once they left the live lists. */
export function trackedKeys(outbox: Outbox): Item[] {
  const out: Item[] = Object.values(outbox.watching);
  for (const m of Object.values(outbox.messages)) out.push(...Object.values(m.items));
  return out;
}

/**
 * One step of the outbox, pure (docs/notifications.md "What is sent when"):
 * `current` holds every live item and the present state of every tracked one
 * (a tracked item absent from it is gone and dropped).
 * - A new item waits `graceMs` from its `since`; closed before that it is
 *   dropped and nothing is ever sent (a blip), except a failed action.
 * - When one item of a node is due, every item of that node still waiting
 *   joins it: one message for a node whose services fail together.
 * - Items already in a message take their new state; a message whose items
 *   are all closed and told to every notifier is removed.
 */
export function advance(outbox: Outbox, current: readonly Item[], nowMs: number, graceMs: number, notifiers: readonly NotifierName[]): Outbox {
  const byKey = new Map(current.map((i) => [i.key, i]));
  const inMessage = new Set<string>();
  const messages: Outbox['messages'] = {};
  for (const m of Object.values(outbox.messages)) {
    const items: OutboxMessage['items'] = {};
    for (const [k, old] of Object.entries(m.items)) {
      items[k] = byKey.get(k) ?? old;
      inMessage.add(k);
    }
    const next = { ...m, items };
    if (!isSettled(next, notifiers)) messages[m.key] = next;
  }

  const watching: Outbox['watching'] = {};
  const due = new Set<string>();
  // In key order, so an unchanged outbox serialises the same and is not written again.
  for (const item of [...current].sort((a, b) => a.key.localeCompare(b.key))) {
    if (inMessage.has(item.key)) continue;
    const known = outbox.watching[item.key];
    if (isClosed(item)) {
      // Seen within its grace and over already: nothing to say, unless an action failed.
      if (known && item.state === 'failed') {
        watching[item.key] = item;
        due.add(item.key);
      }
      continue;
    }
    watching[item.key] = item;
    if (nowMs - Date.parse(item.since) >= graceMs) due.add(item.key);
  }

  const dueNodes = new Set([...due].map((k) => watching[k]!.node));
  for (const node of [...dueNodes].sort()) {
    const group = Object.values(watching)
      .filter((i) => i.node === node)
      .sort((a, b) => a.since.localeCompare(b.since) || a.key.localeCompare(b.key));
    const key = `${node}|${group[0]!.key}`;
    messages[key] = {
      key,
      node,
      openedAt: new Date(nowMs).toISOString(),
      items: Object.fromEntries(group.map((i) => [i.key, i])),
      delivered: {},
    };
    for (const i of group) delete watching[i.key];
  }
  return { version: 1, watching, messages };
}

/** What a notifier still has to be told about a message: null when it is up to date. */
export function pendingFor(m: OutboxMessage, notifier: NotifierName): { first: boolean; changed: string[] } | null {
  const d = m.delivered[notifier];
  const changed = Object.values(m.items)
    .filter((i) => d?.states[i.key] !== i.state)
    .map((i) => i.key);
  if (d && changed.length === 0) return null;
  return { first: !d || d.count === 0, changed };
}

function isSettled(m: OutboxMessage, notifiers: readonly NotifierName[]): boolean {
  return Object.values(m.items).every(isClosed) && notifiers.every((n) => pendingFor(m, n) === null);
}
