import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A message the bot sent, with every later edit. */
export interface BotMessage {
  chatId: number;
  messageId: number;
  text: string;
  /** `inline_keyboard` buttons as sent (text and callback_data). */
  buttons: { text: string; callback_data: string }[][];
  silent: boolean;
  edits: number;
}

export interface TapUser {
  id: number;
  username?: string;
  first_name?: string;
}

/**
 * A small Telegram Bot API server on loopback, for tests (no internet here):
 * the methods a bot needs to send and edit messages with inline buttons and
 * take button taps by long polling. Tests tap buttons with `tap()` and read
 * what the bot sent in `messages`; `down` makes every call answer 502.
 * Requests go to `<url>/bot<token>/<method>` as the real API's do.
 */
export class BotApiServer {
  readonly messages: BotMessage[] = [];
  /** Answers the bot gave to taps (answerCallbackQuery), in order. */
  readonly answers: { callbackQueryId: string; text: string; showAlert: boolean }[] = [];
  /** Calls per method, for assertions. */
  readonly calls: Record<string, number> = {};
  down = false;
  /** Set by setWebhook: taps are then posted there (with the secret token header) instead of queued for getUpdates. */
  webhook: { url: string; secretToken?: string } | null = null;
  /** Status of each webhook post (0: no answer). */
  readonly webhookAnswers: number[] = [];
  private readonly updates: { update_id: number; callback_query: unknown }[] = [];
  private nextUpdateId = 1;
  private nextMessageId = 100;
  private readonly waiting = new Set<() => void>();
  private server: http.Server | null = null;
  url = '';

  constructor(public token: string) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const wake of this.waiting) wake();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A user taps an inline button of a message the bot sent (in `chatId`, by default the message's); returns the callback query id. */
  tap(message: BotMessage, callbackData: string, from: TapUser, chatId = message.chatId): string {
    const id = `cb${this.nextUpdateId}`;
    this.updates.push({
      update_id: this.nextUpdateId++,
      callback_query: {
        id,
        from: { is_bot: false, first_name: from.first_name ?? 'user', ...from },
        chat_instance: '1',
        data: callbackData,
        message: { message_id: message.messageId, date: 0, chat: { id: chatId, type: 'private' }, text: message.text },
      },
    });
    if (this.webhook) {
      const update = this.updates.pop()!;
      const { url, secretToken } = this.webhook;
      void fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(secretToken ? { 'x-telegram-bot-api-secret-token': secretToken } : {}) },
        body: JSON.stringify(update),
      }).then(
        (r) => this.webhookAnswers.push(r.status),
        () => this.webhookAnswers.push(0),
      );
      return id;
    }
    for (const wake of this.waiting) wake();
    return id;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const m = /^\/bot([^/]+)\/(\w+)/.exec(req.url ?? '');
    const send = (status: number, body: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (!m) return send(404, { ok: false, error_code: 404, description: 'Not Found' });
    const [, token, method] = m as unknown as [string, string, string];
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    if (this.down) return send(502, { ok: false, error_code: 502, description: 'Bad Gateway' });
    if (token !== this.token) return send(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const text = Buffer.concat(chunks).toString('utf8');
    const p = (text ? JSON.parse(text) : {}) as Record<string, any>;
    const ok = (result: unknown) => send(200, { ok: true, result });
    const bad = (description: string) => send(400, { ok: false, error_code: 400, description: `Bad Request: ${description}` });
    switch (method) {
      case 'getMe':
        return ok({
          id: 4242,
          is_bot: true,
          first_name: 'homelab',
          username: 'homelab_test_bot',
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      case 'setWebhook':
        this.webhook = { url: String(p.url), ...(p.secret_token ? { secretToken: String(p.secret_token) } : {}) };
        return ok(true);
      case 'deleteWebhook':
        this.webhook = null;
        return ok(true);
      case 'getUpdates':
        if (this.webhook) return send(409, { ok: false, error_code: 409, description: "Conflict: can't use getUpdates method while webhook is active" });
        return ok(await this.nextUpdates(Number(p.offset ?? 0), Number(p.timeout ?? 0), res));
      case 'sendMessage': {
        const msg: BotMessage = {
          chatId: Number(p.chat_id),
          messageId: this.nextMessageId++,
          text: String(p.text),
          buttons: p.reply_markup?.inline_keyboard ?? [],
          silent: p.disable_notification === true,
          edits: 0,
        };
        this.messages.push(msg);
        return ok({ message_id: msg.messageId, date: 0, chat: { id: msg.chatId, type: 'private' }, text: msg.text });
      }
      case 'editMessageText': {
        const msg = this.messages.find((x) => x.chatId === Number(p.chat_id) && x.messageId === Number(p.message_id));
        if (!msg) return bad('message to edit not found');
        const buttons = p.reply_markup?.inline_keyboard ?? [];
        if (msg.text === p.text && JSON.stringify(msg.buttons) === JSON.stringify(buttons)) return bad('message is not modified');
        msg.text = String(p.text);
        msg.buttons = buttons;
        msg.edits += 1;
        return ok({ message_id: msg.messageId, date: 0, chat: { id: msg.chatId, type: 'private' }, text: msg.text });
      }
      case 'answerCallbackQuery':
        this.answers.push({ callbackQueryId: String(p.callback_query_id), text: String(p.text ?? ''), showAlert: p.show_alert === true });
        return ok(true);
      default:
        return send(404, { ok: false, error_code: 404, description: `Not Found: method ${method}` });
    }
  }

  /** Long polling: the updates from `offset` on, waiting up to `timeout` s for one (confirmed ones are dropped). */
  private async nextUpdates(offset: number, timeoutS: number, res: http.ServerResponse): Promise<unknown[]> {
    const pending = () => {
      while (this.updates.length && this.updates[0]!.update_id < offset) this.updates.shift();
      return this.updates.slice();
    };
    if (pending().length || timeoutS <= 0) return pending();
    await new Promise<void>((resolve) => {
      const wake = () => {
        this.waiting.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, timeoutS * 1000);
      this.waiting.add(wake);
      res.once('close', wake);
    });
    return pending();
  }
}
