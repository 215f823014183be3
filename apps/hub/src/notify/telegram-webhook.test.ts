import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pendingAction } from '@homelab/action-store/testing';
import { ManualClock } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { BotApiServer, makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
import { buildTestWeb } from '../web/testing';
import { resolveNotifyConfig } from './config';
import { buildNotifier } from './index';
import type { Notifier } from './notifier';

const log = createLogger('test', { level: 'silent' });
const TOKEN = '99:webhook-token';
const SECRET = 'w'.repeat(32);
const ID = 'container-restart-piha-zigbee2mqtt';
let tmp: TempDir;
let bot: BotApiServer;
let web: Awaited<ReturnType<typeof buildTestWeb>>;
let webUrl: string;
let notifier: Notifier | null;

beforeEach(async () => {
  tmp = await makeTempDir('tg-webhook');
  bot = await new BotApiServer(TOKEN).start();
  notifier = null;
  web = await buildTestWeb({ root: tmp.path, telegramWebhook: (t, u) => notifier?.telegramWebhook(t, u) ?? Promise.resolve(null) });
  await web.app.listen({ host: '127.0.0.1', port: 0 });
  webUrl = `http://127.0.0.1:${(web.app.server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await notifier?.stop();
  await web.app.close();
  await bot.close();
  await tmp.cleanup();
});

function start(webhook: boolean): Notifier {
  const clock = new ManualClock('2026-11-26T14:02:00.000Z');
  const config = resolveNotifyConfig(
    {
      graceSeconds: 0,
      telegram: {
        chatIds: [5],
        allowedUserIds: [7],
        apiRoot: bot.url,
        ...(webhook ? { webhook: { url: `${webUrl}/telegram/webhook`, secretTokenEnv: 'WH' } } : {}),
      },
    },
    { HOMELAB_TELEGRAM_BOT_TOKEN: TOKEN, WH: SECRET },
    path.join(tmp.path, 'notifications.yaml'),
  );
  notifier = buildNotifier({ root: tmp.path, config, store: web.store, nodes: () => ({}), clock, log, onDecision: () => undefined }).notifier;
  notifier.start(3_600_000);
  return notifier;
}

const post = (headers: Record<string, string>, update: unknown = { update_id: 1 }) =>
  fetch(`${webUrl}/telegram/webhook`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(update) });

describe('Telegram in webhook mode', () => {
  it('registers the webhook with its secret token and takes an Approve tap posted to the hub, without credentials of the UI', async () => {
    const n = start(true);
    await waitFor(() => bot.webhook, { what: 'setWebhook' });
    expect(bot.webhook).toEqual({ url: `${webUrl}/telegram/webhook`, secretToken: SECRET });
    await web.store.create(pendingAction(ID));
    await n.runOnce();
    const msg = bot.messages[0]!;
    bot.tap(msg, msg.buttons[0]![0]!.callback_data, { id: 7, username: 'alice' });
    const approved = await waitFor(() => web.store.list('approved').then((l) => l[0]), { what: 'the approval' });
    expect(approved.audit.at(-1)).toMatchObject({ by: '@alice (tg 7)', via: 'telegram' });
    expect(bot.webhookAnswers).toEqual([200]);
    expect(bot.answers[0]!.text).toBe(`Approved ${ID}.`);
    expect(n.healthOf().telegram).toMatchObject({ ok: true });
  });

  it.each([
    ['a wrong secret token', { 'x-telegram-bot-api-secret-token': 'x'.repeat(32) }],
    ['no secret token', {} as Record<string, string>],
  ])('refuses a tap posted with %s (401) and decides nothing', async (_n, headers) => {
    const n = start(true);
    await waitFor(() => bot.webhook);
    await web.store.create(pendingAction(ID));
    await n.runOnce();
    const msg = bot.messages[0]!;
    const tap = {
      update_id: 1,
      callback_query: {
        id: 'cb1',
        from: { id: 7, is_bot: false, first_name: 'alice' },
        chat_instance: '1',
        data: msg.buttons[0]![0]!.callback_data,
        message: { message_id: msg.messageId, date: 0, chat: { id: 5, type: 'private' }, text: msg.text },
      },
    };
    const res = await post(headers, tap);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'unauthorized', message: 'wrong or missing x-telegram-bot-api-secret-token' });
    expect((await web.store.get(ID))!.state).toBe('pending');
    // The same tap with the right token counts: the refusal was the token's.
    expect((await post({ 'x-telegram-bot-api-secret-token': SECRET }, tap)).status).toBe(200);
    expect((await web.store.get(ID))!.state).toBe('approved');
  });

  it('answers 404 while Telegram takes its taps by long polling', async () => {
    start(false);
    const res = await post({ 'x-telegram-bot-api-secret-token': SECRET });
    expect(res.status).toBe(404);
  });
});
