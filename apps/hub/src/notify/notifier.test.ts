import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { pendingAction } from '@homelab/action-store/testing';
import { ManualClock, systemClock, WebhookBody, type Action, type WorldNode } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { BotApiServer, HttpRecorder, makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
import { resolveNotifyConfig } from './config';
import { buildNotifier } from './index';
import type { Notifier } from './notifier';

const log = createLogger('test', { level: 'silent' });
const TOKEN = '123456:test-token';
const CHAT = -1001;
const ALICE = { id: 7, username: 'alice' };
const MALLORY = { id: 666, username: 'mallory' };
const CREATED = '2026-11-26T14:02:00.000Z';
const ID = 'container-restart-piha-zigbee2mqtt';

let tmp: TempDir;
let store: FsActionStore;
let clock: ManualClock;
let bot: BotApiServer;
let ntfy: HttpRecorder;
let hook: HttpRecorder;
let nodes: Record<string, WorldNode>;
let decisions: number;
/** Notifier names, one per failed delivery (what /metrics counts). */
let failedDeliveries: string[] = [];
const notifiers: Notifier[] = [];

beforeEach(async () => {
  tmp = await makeTempDir('notifier');
  store = new FsActionStore({ root: tmp.path, log });
  await store.init();
  clock = new ManualClock(CREATED);
  bot = await new BotApiServer(TOKEN).start();
  ntfy = await new HttpRecorder().start();
  hook = await new HttpRecorder().start();
  nodes = {};
  decisions = 0;
  failedDeliveries = [];
});

afterEach(async () => {
  for (const n of notifiers.splice(0)) await n.stop();
  await Promise.all([bot.close(), ntfy.close(), hook.close()]);
  await tmp.cleanup();
});

function newNotifier(over: Record<string, unknown> = {}): Notifier {
  const config = resolveNotifyConfig(
    {
      uiUrl: 'http://hub.lan:18180',
      graceSeconds: 30,
      telegram: { botTokenEnv: 'TG', chatIds: [CHAT], allowedUserIds: [ALICE.id], apiRoot: bot.url },
      ntfy: { url: ntfy.url, topic: 'homelab' },
      webhook: { url: `${hook.url}/hook`, secretEnv: 'HOOK' },
      ...over,
    },
    { TG: TOKEN, HOOK: 'hook-secret' },
    path.join(tmp.path, 'notifications.yaml'),
  );
  const { notifier } = buildNotifier({
    root: tmp.path,
    config,
    store,
    nodes: () => nodes,
    clock,
    log,
    onDecision: () => decisions++,
    onDeliveryFailed: (name) => failedDeliveries.push(name),
  });
  notifiers.push(notifier);
  return notifier;
}

async function pendingNotified(n: Notifier, action: Action = pendingAction(ID)): Promise<void> {
  await store.create(action);
  clock.advance(31_000);
  await n.runOnce();
}

const hookBodies = () => hook.received.map((r) => WebhookBody.parse(JSON.parse(r.body)));

describe('notifier', () => {
  it('sends nothing while an action is inside its grace period, then one message through each notifier', async () => {
    const n = newNotifier();
    await n.init();
    await store.create(pendingAction(ID));
    clock.advance(10_000);
    await n.runOnce();
    expect([bot.messages.length, ntfy.received.length, hook.received.length]).toEqual([0, 0, 0]);
    clock.advance(21_000);
    await n.runOnce();
    await n.runOnce();
    expect([bot.messages.length, ntfy.received.length, hook.received.length]).toEqual([1, 1, 1]);
    expect(bot.messages[0]!.text).toContain('piha/zigbee2mqtt');
    expect(bot.messages[0]!.text).toContain('Why: piha/zigbee2mqtt: containers not running');
    expect(bot.messages[0]!.text).toContain('http://hub.lan:18180/actions');
    expect(bot.messages[0]!.buttons.flat().map((b) => b.text)).toEqual(['Approve', 'Reject']);
    expect(ntfy.received[0]!.headers.title).toBe('piha: container_restart piha/zigbee2mqtt pending');
    expect(ntfy.received[0]!.headers.priority).toBe('4');
    expect(hookBodies()[0]).toMatchObject({ kind: 'opened', node: 'piha', items: [{ id: ID, state: 'pending', risk: 'low' }] });
  });

  it('signs each webhook body with HMAC-SHA256 of the exact bytes', async () => {
    const n = newNotifier();
    await pendingNotified(n);
    const r = hook.received[0]!;
    // Checked as a receiver would: its own HMAC over the raw bytes it got.
    const expected = `sha256=${createHmac('sha256', 'hook-secret').update(r.body).digest('hex')}`;
    expect(r.headers['x-homelab-signature']).toBe(expected);
    expect(r.headers['x-homelab-delivery']).toBe(WebhookBody.parse(JSON.parse(r.body)).deliveryId);
  });

  it('approves from a Telegram tap with one audit entry naming the user, and edits the message to show who decided', async () => {
    const n = newNotifier();
    n.start(3_600_000);
    await pendingNotified(n);
    const msg = bot.messages[0]!;
    bot.tap(msg, msg.buttons[0]![0]!.callback_data, ALICE);
    const approved = await waitFor(() => store.list('approved').then((l) => l[0]), { what: 'the tap approved the action' });
    expect(approved.audit.at(-1)).toMatchObject({ state: 'approved', by: '@alice (tg 7)', via: 'telegram' });
    expect(approved.audit.filter((e) => e.state === 'approved')).toHaveLength(1);
    expect(decisions).toBe(1);
    await waitFor(() => bot.answers.length === 1);
    expect(bot.answers[0]).toMatchObject({ text: `Approved ${ID}.`, showAlert: false });
    await n.runOnce();
    expect(bot.messages).toHaveLength(1);
    expect(msg.text).toContain('approved by @alice (tg 7) via telegram');
    expect(msg.buttons).toEqual([]);
    expect(ntfy.received.at(-1)!.body).toContain('container_restart piha/zigbee2mqtt: approved by @alice (tg 7) via telegram');
    expect(hookBodies().at(-1)).toMatchObject({ kind: 'update', changed: [`${ID}@${CREATED}`] });
  });

  it.each([
    ['a user who is not allowed', MALLORY, CHAT, 'You are not allowed to decide actions.'],
    ['an allowed user in a chat that is not configured', ALICE, 999, 'This chat is not one the hub takes decisions from.'],
  ])('refuses a tap from %s and leaves the action pending', async (_n, user, chatId, text) => {
    const n = newNotifier();
    n.start(3_600_000);
    await pendingNotified(n);
    const msg = bot.messages[0]!;
    bot.tap(msg, msg.buttons[0]![0]!.callback_data, user, chatId);
    await waitFor(() => bot.answers.length === 1, { what: 'the refusal' });
    expect(bot.answers[0]).toMatchObject({ text, showAlert: true });
    expect((await store.get(ID))!.state).toBe('pending');
  });

  it('asks for a second tap before approving a guarded action', async () => {
    const n = newNotifier();
    n.start(3_600_000);
    await pendingNotified(n, pendingAction('redeploy-piha-zigbee2mqtt', { type: 'redeploy', risk: 'guarded' }));
    const msg = bot.messages[0]!;
    const approve = msg.buttons[0]![0]!.callback_data;
    bot.tap(msg, approve, ALICE);
    await waitFor(() => bot.answers.length === 1);
    expect(bot.answers[0]!.text).toBe('redeploy is guarded: tap Approve again within a minute to confirm.');
    expect((await store.get('redeploy-piha-zigbee2mqtt'))!.state).toBe('pending');
    bot.tap(msg, approve, ALICE);
    await waitFor(() => bot.answers.length === 2);
    expect((await store.get('redeploy-piha-zigbee2mqtt'))!.state).toBe('approved');
  });

  it('tells a notifier that was down everything once it is back, shows its failure meanwhile, and backs off', async () => {
    const n = newNotifier();
    hook.status = 503;
    await pendingNotified(n);
    expect(n.healthOf().webhook).toMatchObject({ ok: false, failures: 1, undelivered: 1 });
    expect(n.healthOf().webhook!.lastError).toContain('503');
    expect(n.healthOf().telegram).toMatchObject({ ok: true, undelivered: 0 });
    expect(failedDeliveries).toEqual(['webhook']);
    await n.runOnce();
    expect(hook.refused).toBe(1); // within the back-off: not tried again
    hook.status = 200;
    clock.advance(2_000);
    await n.runOnce();
    expect(hookBodies().map((b) => b.kind)).toEqual(['opened']);
    expect(n.healthOf().webhook).toMatchObject({ ok: true, failures: 0, undelivered: 0 });
  });

  it('sends nothing again after a restart, and what a restart interrupted goes out once', async () => {
    const first = newNotifier({ webhook: undefined, ntfy: undefined });
    await pendingNotified(first);
    await first.stop();
    const second = newNotifier();
    await second.init();
    await second.runOnce();
    // Telegram was told before the restart; ntfy and the webhook are new and get the opening once.
    expect([bot.messages.length, ntfy.received.length, hook.received.length]).toEqual([1, 1, 1]);
    await second.runOnce();
    expect([bot.messages.length, ntfy.received.length, hook.received.length]).toEqual([1, 1, 1]);
  });

  it('edits the message to "recovered by itself" when the action is cancelled because the service healed', async () => {
    const n = newNotifier();
    await pendingNotified(n);
    await store.transition(ID, 'pending', 'cancelled', (a) => ({ ...a, cancelReason: 'drift_resolved_auto' }));
    await n.runOnce();
    expect(bot.messages[0]!.text).toContain('recovered by itself');
    expect(bot.messages[0]!.buttons).toEqual([]);
    await n.runOnce();
    expect(n.snapshot().messages).toEqual({});
  });

  it('tells when a node went offline past the grace period and when it is back', async () => {
    const n = newNotifier();
    const since = CREATED;
    nodes = { piha: { online: false, statusSince: since } as WorldNode };
    clock.advance(31_000);
    await n.runOnce();
    expect(bot.messages[0]!.text).toContain('node piha: offline since 2026-11-26 14:02 UTC');
    nodes = { piha: { online: true, statusSince: '2026-11-26T14:05:00.000Z' } as WorldNode };
    await n.runOnce();
    expect(bot.messages[0]!.text).toContain('node piha: back online');
    expect(ntfy.received.at(-1)!.body).toContain('node piha: back online');
  });

  it('keeps an outbox that does not parse aside and starts a new one', async () => {
    await fs.mkdir(path.join(tmp.path, 'state'), { recursive: true });
    await fs.writeFile(path.join(tmp.path, 'state/notify-outbox.json'), '{"version":9');
    const n = newNotifier();
    await n.init();
    const kept = (await fs.readdir(path.join(tmp.path, 'state'))).filter((f) => f.startsWith('notify-outbox.json.corrupt-'));
    expect(kept).toHaveLength(1);
    await pendingNotified(n);
    expect(bot.messages).toHaveLength(1);
  });

  it('holds messages over the rate limit and sends them, with their latest state, once the minute has passed', async () => {
    const n = newNotifier({ rateLimitPerMinute: 2, ntfy: undefined, webhook: undefined });
    for (const node of ['a1', 'a2', 'a3']) await store.create(pendingAction(`container-restart-${node}-web`, { node, service: 'web' }));
    clock.advance(31_000);
    await n.runOnce();
    expect(bot.messages).toHaveLength(2);
    expect(n.healthOf().telegram).toMatchObject({ ok: true, undelivered: 1 });
    await store.transition('container-restart-a3-web', 'pending', 'rejected', (a) => a);
    clock.advance(60_000);
    await n.runOnce();
    expect(bot.messages).toHaveLength(3);
    expect(bot.messages[2]!.text).toContain('container_restart a3/web · low risk: rejected');
  });

  it('sends without sound in quiet hours, and holds everything in quiet hours of mode hold until they end', async () => {
    // CREATED is 14:02 UTC; +31 s is inside 14:00–15:00.
    const silent = newNotifier({ quietHours: { from: '14:00', to: '15:00', timeZone: 'UTC' }, webhook: undefined });
    await pendingNotified(silent);
    expect(bot.messages[0]!.silent).toBe(true);
    expect(ntfy.received[0]!.headers.priority).toBe('1');
    await silent.stop();
    await tmp.cleanup();
    tmp = await makeTempDir('notifier');
    store = new FsActionStore({ root: tmp.path, log });
    await store.init();
    const held = newNotifier({ quietHours: { from: '14:00', to: '15:00', timeZone: 'UTC', mode: 'hold' }, webhook: undefined, ntfy: undefined });
    await pendingNotified(held);
    expect(bot.messages).toHaveLength(1);
    clock.advance(58 * 60_000);
    await held.runOnce();
    expect(bot.messages).toHaveLength(2);
    expect(bot.messages[1]!.silent).toBe(false);
  });

  it("shows Telegram's long polling failing (a token the server refuses) in the notifier's health and notices", async () => {
    bot.token = 'another-token';
    const n = newNotifier({ ntfy: undefined, webhook: undefined });
    n.start(3_600_000);
    const h = await waitFor(() => n.healthOf().telegram?.receiveError, { what: 'the polling error' });
    expect(h).toContain('401');
    expect(n.healthOf().telegram!.ok).toBe(false);
    expect(n.problems()).toEqual([{ where: 'notifier telegram', what: expect.stringContaining('taps are not received') }]);
  });

  it('keeps Telegram going, sends and edits, while the webhook takes requests and never answers', async () => {
    hook.hang = true;
    const config = resolveNotifyConfig(
      { graceSeconds: 0, telegram: { chatIds: [CHAT], allowedUserIds: [ALICE.id], apiRoot: bot.url }, webhook: { url: `${hook.url}/hook` } },
      { HOMELAB_TELEGRAM_BOT_TOKEN: TOKEN },
      path.join(tmp.path, 'notifications.yaml'),
    );
    const { notifier } = buildNotifier({ root: tmp.path, config, store, nodes: () => ({}), clock: systemClock, log, onDecision: () => undefined });
    notifiers.push(notifier);
    notifier.start(50);
    await store.create(pendingAction(ID, { createdAt: new Date().toISOString() }));
    const msg = await waitFor(() => bot.messages[0], { timeoutMs: 3_000, what: 'the Telegram message' });
    await waitFor(() => hook.hanging === 1, { what: 'the webhook request hanging' });
    bot.tap(msg, msg.buttons[0]![0]!.callback_data, ALICE);
    // The webhook's request is still unanswered (10 s timeout): Telegram's edit does not wait for it.
    await waitFor(() => msg.text.includes('approved by @alice'), { timeoutMs: 3_000, what: 'the edit while the webhook hangs' });
    expect(hook.received).toHaveLength(0);
    // Stopping aborts the hanging request instead of waiting out its timeout.
    const stopAt = Date.now();
    await notifier.stop();
    expect(Date.now() - stopAt).toBeLessThan(2_000);
  });

  it('shows no buttons when nobody may decide from Telegram', async () => {
    const n = newNotifier({ telegram: { botTokenEnv: 'TG', chatIds: [CHAT], apiRoot: bot.url } });
    await pendingNotified(n);
    expect(bot.messages[0]!.text).toContain('waiting for approval');
    expect(bot.messages[0]!.buttons).toEqual([]);
  });

  it('does not rewrite the outbox file when nothing changed', async () => {
    const n = newNotifier();
    await store.create(pendingAction('container-restart-piha-a', { service: 'a' }));
    await store.create(pendingAction('container-restart-piha-b', { service: 'b' }));
    await n.runOnce();
    const file = path.join(tmp.path, 'state/notify-outbox.json');
    const before = (await fs.stat(file)).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    await n.runOnce();
    await n.runOnce();
    expect((await fs.stat(file)).mtimeMs).toBe(before);
  });
});
