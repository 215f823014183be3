import { timingSafeEqual } from 'node:crypto';
import { Bot, GrammyError, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import type { Logger } from '@homelab/logging';
import type { NotifyConfig } from '../config';
import type { Delivered, OutboxMessage } from '../outbox';
import { render } from '../render';
import { telegramUserName, type TapHandler } from '../telegram-taps';
import { describeError, REQUEST_TIMEOUT_MS, type Channel, type DeliverOptions } from './channel';

const MAX_TEXT = 4_096;

/**
 * Telegram through grammY (docs/notifications.md "Telegram"): one message per
 * configured chat, edited as the items change, with Approve / Reject buttons
 * while an action is pending. Taps come in by long polling (no inbound port),
 * or, with `webhook`, posted by Telegram to the hub's `/telegram/webhook`.
 */
export class TelegramChannel implements Channel {
  readonly name = 'telegram' as const;
  readonly bot: Bot;
  private polling: Promise<void> | null = null;
  private stopped = false;
  /** Webhook mode: Telegram has accepted the hub's webhook. */
  private webhookSet = false;
  /** The last failure of the long polling, for /healthz. */
  pollingError: string | null = null;

  constructor(
    private readonly c: NonNullable<NotifyConfig['telegram']>,
    private readonly uiUrl: string | undefined,
    private readonly log: Logger,
    taps?: TapHandler,
  ) {
    this.bot = new Bot(c.botToken, { client: { ...(c.apiRoot ? { apiRoot: c.apiRoot } : {}), timeoutSeconds: REQUEST_TIMEOUT_MS / 1000 + 30 } });
    if (taps) this.bot.on('callback_query:data', (ctx) => this.onTap(ctx, taps));
    this.bot.catch((err) => this.log.error({ err: err.error }, 'telegram update handler failed'));
  }

  private async onTap(ctx: Context, taps: TapHandler): Promise<void> {
    const q = ctx.callbackQuery!;
    const answer = await taps.handle({ data: q.data ?? '', userId: q.from.id, userName: telegramUserName(q.from), chatId: q.message?.chat.id });
    if (answer.refused) this.log.warn({ user: q.from.id, chat: q.message?.chat.id }, `telegram tap refused: ${answer.text}`);
    await ctx.answerCallbackQuery({ text: answer.text, show_alert: answer.refused === true });
  }

  async deliver(m: OutboxMessage, d: Delivered, o: DeliverOptions): Promise<void> {
    const r = render(m, o.changed, this.uiUrl);
    // Telegram refuses texts over 4,096 characters (a node with very many problems).
    const text = r.text.length > MAX_TEXT ? `${r.text.slice(0, MAX_TEXT - 40)}\n… (more on the UI)` : r.text;
    // grammY types its signal with the abort-controller package's class; Node's own is what node-fetch gets either way.
    const signal = o.signal as Parameters<Bot['api']['sendMessage']>[3];
    // Buttons only when someone may tap them.
    const rows = this.c.allowedUserIds.length ? r.buttons : [];
    const markup = { inline_keyboard: rows.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) };
    for (const chatId of this.c.chatIds) {
      const ref = d.refs.find((x) => x.chatId === chatId);
      if (ref) {
        try {
          await this.bot.api.editMessageText(chatId, ref.messageId, text, { reply_markup: markup }, signal);
          continue;
        } catch (err) {
          if (err instanceof GrammyError && /not modified/i.test(err.description)) continue;
          // Deleted in the chat: the news goes out as a new message.
          if (!(err instanceof GrammyError && /message to edit not found/i.test(err.description))) throw err;
          d.refs = d.refs.filter((x) => x !== ref);
        }
      }
      const sent = await this.bot.api.sendMessage(chatId, text, { reply_markup: markup, disable_notification: o.silent }, signal);
      d.refs.push({ chatId, messageId: sent.message_id });
    }
    d.count += 1;
  }

  async sendTest(text: string): Promise<void> {
    for (const chatId of this.c.chatIds) await this.bot.api.sendMessage(chatId, text);
  }

  receiveError(): string | null {
    return this.pollingError;
  }

  /**
   * An update Telegram posted to the hub's webhook route: handled when it carries the secret
   * token; false when it does not (the route answers 401); null when the webhook is not in use.
   */
  async handleWebhook(secretToken: string | undefined, update: unknown): Promise<boolean | null> {
    const w = this.c.webhook;
    if (!w) return null;
    const given = Buffer.from(secretToken ?? '');
    const expected = Buffer.from(w.secretToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    if (!this.bot.isInited()) await this.bot.init();
    try {
      await this.bot.handleUpdate(update as Update);
    } catch (err) {
      // Answered 200 all the same: Telegram would otherwise post the same tap again and again.
      this.log.error({ err }, 'telegram webhook update failed');
    }
    return true;
  }

  /** Taps in the background: long polling (grammY retries network failures by itself), or registering the webhook. */
  start(): void {
    if (this.polling || this.stopped || this.webhookSet) return;
    const receiving = this.c.webhook
      ? this.registerWebhook(this.c.webhook)
      : this.bot.start({
          allowed_updates: ['callback_query'],
          onStart: () => {
            this.pollingError = null;
          },
        });
    this.polling = receiving
      .catch((err: unknown) => {
        this.pollingError = describeError(err);
        this.log.error({ err }, `telegram ${this.c.webhook ? 'webhook registration failed' : 'long polling stopped'}; tried again by the next notifier cycle`);
      })
      .finally(() => {
        this.polling = null;
      });
  }

  private async registerWebhook(w: { url: string; secretToken: string }): Promise<void> {
    await this.bot.init();
    await this.bot.api.setWebhook(w.url, { secret_token: w.secretToken, allowed_updates: ['callback_query'] });
    this.webhookSet = true;
    this.pollingError = null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (!this.polling) return;
    if (!this.c.webhook) await this.bot.stop().catch(() => undefined);
    await this.polling;
  }
}
