import fs from 'node:fs/promises';
import path from 'node:path';
import { ActionStoreError, type ActionStore } from '@homelab/action-store';
import type { Action, Clock, NotifierName, NotifyItem, WorldNode } from '@homelab/contracts';
import { readJsonFile, writeFileAtomic } from '@homelab/durable-fs';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { decideAction } from '../decide';
import { describeError, type Channel } from './channels/channel';
import type { NotifyConfig } from './config';
import { advance, emptyOutbox, isClosed, Outbox, pendingFor, trackedKeys, type Delivered } from './outbox';
import { isQuiet, RateWindow, retryDelayMs } from './policy';
import { itemToken } from './render';

export const OUTBOX_FILE = 'state/notify-outbox.json';

export interface NotifierDeps {
  root: string;
  config: NotifyConfig;
  store: ActionStore;
  nodes: () => Record<string, WorldNode>;
  channels: Channel[];
  clock: Clock;
  log: Logger;
  /** After a decision from Telegram: the executor runs without waiting for its tick. */
  onDecision: () => void;
  /** One message `notifier` could not deliver (the hub's /metrics counts them, docs/metrics.md). */
  onDeliveryFailed?: (notifier: string) => void;
}

interface ChannelHealth {
  failures: number;
  nextAttemptAt: number;
  lastError?: string;
  lastErrorAt?: string;
  lastSuccessAt?: string;
  rate: RateWindow;
}

/** What /healthz and the UI show of each notifier. */
export interface NotifierHealth {
  ok: boolean;
  failures: number;
  lastError?: string;
  lastErrorAt?: string;
  lastSuccessAt?: string;
  /** Messages this notifier has not been told the latest of. */
  undelivered: number;
  /** Telegram: why its long polling for taps fails (decisions from Telegram do not arrive meanwhile). */
  receiveError?: string;
}

const TERMINAL = ['completed', 'failed', 'rejected', 'cancelled'] as const;

/**
 * Sends what the action and world files say to the configured notifiers
 * (docs/notifications.md "Delivery"). Its own loops: one that reads the files
 * and moves the outbox on, and one per notifier that sends, so a slow or dead
 * notifier delays only its own messages, never another notifier, ingest, the
 * observer or the supervisor. The outbox file is written after every change,
 * so a restart neither loses nor repeats a message.
 */
export class Notifier {
  private outbox: Outbox = emptyOutbox();
  private readonly health = new Map<NotifierName, ChannelHealth>();
  private readonly loop: PeriodicLoop<void>;
  private readonly senders = new Map<NotifierName, PeriodicLoop<void>>();
  private readonly file: string;
  private started = false;
  /** Writes of the outbox, one after the other (each writes the outbox as it is when its turn comes). */
  private saving: Promise<void> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(private readonly deps: NotifierDeps) {
    this.file = path.join(deps.root, OUTBOX_FILE);
    for (const c of deps.channels) {
      const perMinute = deps.config[c.name]?.perMinute ?? 20;
      this.health.set(c.name, { failures: 0, nextAttemptAt: 0, rate: new RateWindow(perMinute) });
      this.senders.set(
        c.name,
        new PeriodicLoop({ name: `notifier ${c.name}`, clock: deps.clock, log: deps.log, run: () => this.send(c), kickBeforeStart: true }),
      );
    }
    this.loop = new PeriodicLoop({ name: 'notifier', clock: deps.clock, log: deps.log, run: () => this.cycle(), debounceMs: 100 });
  }

  /** Reads the outbox; one that does not parse is kept aside (never deleted) and a new one begun. */
  async init(): Promise<void> {
    const read = await readJsonFile(this.file, Outbox);
    if (read.kind === 'ok') this.outbox = read.value;
    if (read.kind === 'corrupt') {
      const aside = `${this.file}.corrupt-${this.deps.clock.now().getTime()}`;
      await fs.rename(this.file, aside);
      this.deps.log.error({ file: this.file, aside, problem: read.problem }, 'notifier outbox does not parse; kept aside, starting a new one');
    }
  }

  start(intervalMs: number): void {
    this.started = true;
    for (const c of this.deps.channels) c.start?.();
    this.loop.start(intervalMs);
  }

  kick(): void {
    this.loop.kick();
  }

  /** One cycle of the outbox, then one of each notifier's sender (tests; the loops run these by themselves). */
  async runOnce(): Promise<void> {
    await this.loop.runOnce();
    await Promise.all([...this.senders.values()].map((s) => s.runOnce()));
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop.stop();
    await Promise.all([...this.senders.values()].map((s) => s.stop()));
    await this.saving;
    for (const c of this.deps.channels) await c.stop?.();
  }

  snapshot(): Outbox {
    return structuredClone(this.outbox);
  }

  healthOf(): Partial<Record<NotifierName, NotifierHealth>> {
    const out: Partial<Record<NotifierName, NotifierHealth>> = {};
    for (const [name, h] of this.health) {
      const receiveError = this.deps.channels.find((c) => c.name === name)?.receiveError?.();
      const undelivered = Object.values(this.outbox.messages).filter((m) => pendingFor(m, name) !== null).length;
      out[name] = {
        ok: h.failures === 0 && !receiveError,
        failures: h.failures,
        undelivered,
        ...(receiveError ? { receiveError } : {}),
        ...(h.lastError ? { lastError: h.lastError, lastErrorAt: h.lastErrorAt } : {}),
        ...(h.lastSuccessAt ? { lastSuccessAt: h.lastSuccessAt } : {}),
      };
    }
    return out;
  }

  /** A line per failing notifier for the fleet page's notices. */
  problems(): { where: string; what: string }[] {
    return Object.entries(this.healthOf())
      .filter(([, h]) => !h.ok)
      .map(([name, h]) => ({
        where: `notifier ${name}`,
        what: [
          h.failures
            ? `${h.failures} failed deliveries in a row, last at ${h.lastErrorAt}: ${h.lastError}; ${h.undelivered} messages waiting (retried with back-off)`
            : '',
          h.receiveError ? `taps are not received: ${h.receiveError}` : '',
        ]
          .filter(Boolean)
          .join('; '),
      }));
  }

  /** An update posted to the Telegram webhook route (null: Telegram in webhook mode is not configured). */
  telegramWebhook(secretToken: string | undefined, update: unknown): Promise<boolean | null> {
    const telegram = this.deps.channels.find((c) => c.handleWebhook);
    return telegram ? telegram.handleWebhook!(secretToken, update) : Promise.resolve(null);
  }

  /** The item behind a Telegram button, while its message is followed. */
  itemByToken(token: string): NotifyItem | undefined {
    for (const m of Object.values(this.outbox.messages)) for (const i of Object.values(m.items)) if (itemToken(i.key) === token) return i;
    return undefined;
  }

  /** A Telegram tap's decision: the same transition and audit entry as the UI's (decide.ts). */
  async decide(item: NotifyItem, to: 'approved' | 'rejected', by: string): Promise<'decided' | 'conflict' | 'not_found'> {
    try {
      await decideAction(this.deps.store, item.id!, { to, by, via: 'telegram', createdAt: item.since, at: this.deps.clock.now() });
    } catch (err) {
      if (err instanceof ActionStoreError && err.code === 'not_found') return 'not_found';
      if (err instanceof ActionStoreError && (err.code === 'conflict' || err.code === 'invalid_transition')) return 'conflict';
      throw err;
    }
    this.deps.onDecision();
    this.kick();
    return 'decided';
  }

  private async cycle(): Promise<void> {
    // Long polling that stopped (Telegram unreachable at start, say) is started again.
    if (this.started) for (const c of this.deps.channels) c.start?.();
    const items = await this.current();
    const nowMs = this.deps.clock.now().getTime();
    // Synchronous from here to the assignment: a sender's result lands in the outbox before or after, never lost.
    const next = advance(this.outbox, items, nowMs, this.deps.config.graceMs, [...this.senders.keys()]);
    if (JSON.stringify(next) !== JSON.stringify(this.outbox)) {
      this.outbox = next;
      await this.save();
    }
    for (const s of this.senders.values()) s.kick();
  }

  /** Brings one notifier up to date with every message, oldest first; stops at its first failure (back-off). */
  private async send(channel: Channel): Promise<void> {
    const nowMs = this.deps.clock.now().getTime();
    const quiet = isQuiet(this.deps.config.quietHours, nowMs);
    if (quiet && this.deps.config.quietHours?.mode === 'hold') return;
    const h = this.health.get(channel.name)!;
    const keys = Object.values(this.outbox.messages)
      .sort((a, b) => a.openedAt.localeCompare(b.openedAt))
      .map((m) => m.key);
    for (const key of keys) {
      // The outbox may have moved on during the previous delivery: always the message as it is now.
      const m = this.outbox.messages[key];
      const due = m && pendingFor(m, channel.name);
      if (!m || !due) continue;
      if (nowMs < h.nextAttemptAt) return;
      // Over the rate limit: later, with whatever the state is by then.
      if (!h.rate.take(nowMs)) return;
      const d: Delivered = structuredClone(m.delivered[channel.name]) ?? { states: {}, refs: [], count: 0 };
      const states = Object.fromEntries(Object.values(m.items).map((i) => [i.key, i.state]));
      const record = (value: Delivered) => {
        const now = this.outbox.messages[key];
        if (now) now.delivered[channel.name] = value;
      };
      try {
        await channel.deliver(structuredClone(m), d, { first: due.first, changed: due.changed, silent: quiet, nowMs, signal: this.stopping.signal });
        record({ ...d, states });
        h.failures = 0;
        h.nextAttemptAt = 0;
        h.lastSuccessAt = this.deps.clock.now().toISOString();
      } catch (err) {
        // Messages sent to some chats before the failure are kept, so they are edited, not sent again.
        if (d.refs.length) record(d);
        h.failures += 1;
        h.nextAttemptAt = nowMs + retryDelayMs(h.failures);
        h.lastError = describeError(err).slice(0, 300);
        h.lastErrorAt = this.deps.clock.now().toISOString();
        this.deps.onDeliveryFailed?.(channel.name);
        this.deps.log.warn({ err, notifier: channel.name, message: key, failures: h.failures }, 'notification not delivered; retrying later');
      }
      await this.save();
    }
  }

  /** Every live item and the present state of every tracked one, from the action and world files. */
  private async current(): Promise<NotifyItem[]> {
    const { store } = this.deps;
    const live = [...(await store.list('pending')), ...(await store.list('approved')), ...(await store.list('running'))];
    const items = new Map(live.map((a) => [itemKey(a), actionItem(a)]));
    const nodes = this.deps.nodes();
    if (this.deps.config.nodeAlerts) {
      for (const [name, n] of Object.entries(nodes)) {
        if (n.online !== false || !n.statusSince) continue;
        const key = `node:${name}@${n.statusSince}`;
        items.set(key, { key, kind: 'node', node: name, state: 'offline', since: n.statusSince });
      }
    }
    for (const t of trackedKeys(this.outbox)) {
      if (items.has(t.key) || isClosed(t)) continue;
      if (t.kind === 'node') items.set(t.key, { ...t, state: 'online' });
      else items.set(t.key, await this.ended(t));
    }
    return [...items.values()];
  }

  /** A tracked action that left pending/approved/running: its final state (or cancelled, when its file is gone). */
  private async ended(t: NotifyItem): Promise<NotifyItem> {
    const { store } = this.deps;
    const a = await store.get(t.id!);
    if (a && a.createdAt === t.since) return actionItem(a);
    const old = store.archived ? await store.archived({ since: new Date(t.since), states: TERMINAL }) : [];
    const found = old.find((x) => x.id === t.id && x.createdAt === t.since);
    return found ? actionItem(found) : { ...t, state: 'cancelled', cancelReason: 'action_file_gone' };
  }

  private save(): Promise<void> {
    const next = this.saving.then(() => writeFileAtomic(this.file, JSON.stringify(this.outbox), { mkdirMode: 0o755 }));
    this.saving = next.catch(() => undefined);
    return next;
  }
}

const itemKey = (a: Action) => `${a.id}@${a.createdAt}`;

/** An action as a message tells about it. */
export function actionItem(a: Action): NotifyItem {
  const decision = [...a.audit].reverse().find((e) => e.state === 'approved' || e.state === 'rejected');
  const why = `${a.drift.type}${a.drift.reason ? ` (${a.drift.reason})` : ''} since ${a.drift.firstSeen.slice(0, 16).replace('T', ' ')} UTC`;
  return {
    key: itemKey(a),
    kind: 'action',
    node: a.node,
    state: a.state,
    since: a.createdAt,
    id: a.id,
    type: a.type,
    risk: a.risk,
    ...(a.service ? { service: a.service } : {}),
    summary: a.summary,
    why: why.slice(0, 300),
    ...(decision ? { decidedBy: decision.by, decidedVia: decision.via } : {}),
    ...(a.cancelReason ? { cancelReason: a.cancelReason } : {}),
    ...(a.result?.error ? { error: `${a.result.error.code}: ${a.result.error.message}`.slice(0, 300) } : {}),
  };
}
