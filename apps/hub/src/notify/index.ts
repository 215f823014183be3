import type { Logger } from '@homelab/logging';
import type { Channel } from './channels/channel';
import { NtfyChannel } from './channels/ntfy';
import { TelegramChannel } from './channels/telegram';
import { WebhookChannel } from './channels/webhook';
import type { NotifyConfig } from './config';
import { Notifier, type NotifierDeps } from './notifier';
import { TapHandler } from './telegram-taps';

export { loadNotifyConfig, resolveNotifyConfig, notifiersOf, type NotifyConfig } from './config';
export { Notifier, OUTBOX_FILE, type NotifierHealth } from './notifier';
export { describeError, type Channel } from './channels/channel';

/** The channels a config names; Telegram taps decide through `taps` when given. */
export function channelsOf(config: NotifyConfig, log: Logger, taps?: TapHandler): Channel[] {
  const out: Channel[] = [];
  if (config.telegram) out.push(new TelegramChannel(config.telegram, config.uiUrl, log.child({ notifier: 'telegram' }), taps));
  if (config.ntfy) out.push(new NtfyChannel(config.ntfy, config.uiUrl));
  if (config.webhook) out.push(new WebhookChannel(config.webhook, config.uiUrl));
  return out;
}

/** The hub's notifier with its channels, Telegram taps wired to its decisions. */
export function buildNotifier(deps: Omit<NotifierDeps, 'channels'>): { notifier: Notifier; taps: TapHandler | null } {
  const tg = deps.config.telegram;
  let notifier: Notifier | undefined;
  const taps = tg
    ? new TapHandler({
        chatIds: tg.chatIds,
        allowedUserIds: tg.allowedUserIds,
        itemByToken: (t) => notifier?.itemByToken(t),
        decide: (item, to, by) => notifier!.decide(item, to, by),
        nowMs: () => deps.clock.now().getTime(),
      })
    : null;
  notifier = new Notifier({ ...deps, channels: channelsOf(deps.config, deps.log, taps ?? undefined) });
  return { notifier, taps };
}
