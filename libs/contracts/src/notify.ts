import { z } from 'zod';
import { ActionId, IsoTime, NodeName, ServiceName } from './names';
import { ActionState, ActionType, Risk } from './actions';

/** Where the hub reads its notifier settings, relative to the data root (docs/notifications.md). */
export const NOTIFY_CONFIG_FILE = 'notifications.yaml';

/** The name of an environment variable that holds a secret (secrets never sit in the file). */
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be the name of an environment variable');
const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });
const ClockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM (24 h)');
const TelegramId = z.union([z.number().int(), z.string().regex(/^-?\d+$/, 'must be a numeric Telegram id')]).transform((v) => Number(v));
const PerMinute = z.number().int().min(1).max(600);

export const TelegramSettings = z.strictObject({
  /** Variable holding the token BotFather gave. */
  botTokenEnv: EnvName.default('HOMELAB_TELEGRAM_BOT_TOKEN'),
  /** Chats (private, group or channel ids) the bot writes to and takes decisions from. */
  chatIds: z.array(TelegramId).min(1, 'name at least one chat id'),
  /** Telegram users whose Approve / Reject taps count; empty: nobody can decide from Telegram. */
  allowedUserIds: z.array(TelegramId).default([]),
  /**
   * Taps posted by Telegram to the hub (`POST /telegram/webhook`) instead of long polling: `url`
   * is how Telegram reaches that route (https, public); the variable holds the secret token
   * Telegram sends back in each request.
   */
  webhook: z
    .strictObject({
      url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
      secretTokenEnv: EnvName.default('HOMELAB_TELEGRAM_WEBHOOK_SECRET'),
    })
    .optional(),
  /** A Bot API server other than api.telegram.org (a self-hosted one). */
  apiRoot: HttpUrl.optional(),
  rateLimitPerMinute: PerMinute.optional(),
});

export const NtfySettings = z.strictObject({
  /** The ntfy server, e.g. https://ntfy.sh or a self-hosted one. */
  url: HttpUrl,
  topic: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only (up to 64)'),
  /** Variable holding an access token, for a protected topic. */
  tokenEnv: EnvName.optional(),
  rateLimitPerMinute: PerMinute.optional(),
});

export const WebhookSettings = z.strictObject({
  url: HttpUrl,
  /** Variable holding the HMAC-SHA256 key that signs each body (`x-homelab-signature`). */
  secretEnv: EnvName.optional(),
  rateLimitPerMinute: PerMinute.optional(),
});

export const QuietHours = z.strictObject({
  from: ClockTime,
  to: ClockTime,
  /** IANA zone the times are in; default the hub's own. */
  timeZone: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'not a time zone the hub knows (e.g. Europe/Berlin)')
    .optional(),
  /** `silent`: send without sound (Telegram) or at minimum priority (ntfy); `hold`: send when they end. */
  mode: z.enum(['silent', 'hold']).default('silent'),
});
export type QuietHours = z.infer<typeof QuietHours>;

/** `<root>/notifications.yaml` (docs/notifications.md). */
export const NotifyFile = z.strictObject({
  /** Base URL of the UI as the operator reaches it, for links in messages. */
  uiUrl: HttpUrl.optional(),
  /** A problem that ends within this many seconds sends nothing. */
  graceSeconds: z.number().int().min(0).max(86_400).default(60),
  /** Messages per notifier and minute; more wait (default for each notifier). */
  rateLimitPerMinute: PerMinute.default(20),
  quietHours: QuietHours.optional(),
  /** Messages when a node goes offline and comes back. */
  nodeAlerts: z.boolean().default(true),
  telegram: TelegramSettings.optional(),
  ntfy: NtfySettings.optional(),
  webhook: WebhookSettings.optional(),
});
export type NotifyFile = z.infer<typeof NotifyFile>;

export const NOTIFIER_NAMES = ['telegram', 'ntfy', 'webhook'] as const;
export const NotifierName = z.enum(NOTIFIER_NAMES);
export type NotifierName = z.infer<typeof NotifierName>;

/**
 * One thing a message tells about: an action (by id and the createdAt of its
 * occurrence) or a node's offline spell. `state` is what it is now.
 */
export const NotifyItem = z.object({
  key: z.string().max(300),
  kind: z.enum(['action', 'node']),
  node: NodeName,
  state: z.union([ActionState, z.enum(['offline', 'online'])]),
  /** When the problem began: the action's createdAt, the node's statusSince. */
  since: IsoTime,
  id: ActionId.optional(),
  type: ActionType.optional(),
  risk: Risk.optional(),
  service: ServiceName.optional(),
  summary: z.string().max(500).optional(),
  /** The drift that led to the action, in one line. */
  why: z.string().max(300).optional(),
  /** Who approved or rejected it, and through what (`@alice`, `telegram`). */
  decidedBy: z.string().max(64).optional(),
  decidedVia: z.string().max(16).optional(),
  cancelReason: z.string().max(64).optional(),
  error: z.string().max(300).optional(),
});
export type NotifyItem = z.infer<typeof NotifyItem>;

/** The JSON body the webhook notifier posts (docs/notifications.md, "Webhook"). */
export const WebhookBody = z.object({
  /** The same for a resend of the same content: receivers may drop a repeat. */
  deliveryId: z.string().max(400),
  /** The message this delivery belongs to: the opening and its follow-ups share it. */
  messageKey: z.string().max(400),
  kind: z.enum(['opened', 'update', 'test']),
  sentAt: IsoTime,
  node: NodeName.optional(),
  /** Everything the message is about, as it is now. */
  items: z.array(NotifyItem),
  /** Keys of the items whose state changed since the last delivery. */
  changed: z.array(z.string().max(300)),
  /** The same text a chat message would carry. */
  text: z.string(),
  ui: z.string().optional(),
});
export type WebhookBody = z.infer<typeof WebhookBody>;
