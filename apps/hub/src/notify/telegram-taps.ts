import type { NotifyItem } from '@homelab/contracts';

/** A button tap as Telegram reports it (callback_query). */
export interface Tap {
  data: string;
  userId: number;
  /** `@username`, else the first name, else the id. */
  userName: string;
  chatId: number | undefined;
}

export interface TapDeps {
  chatIds: readonly number[];
  allowedUserIds: readonly number[];
  /** The item a button token stands for, while its message is in the outbox. */
  itemByToken(token: string): NotifyItem | undefined;
  decide(item: NotifyItem, to: 'approved' | 'rejected', by: string): Promise<'decided' | 'conflict' | 'not_found'>;
  nowMs(): number;
}

/** How long a first tap on Approve of a guarded action waits for the confirming second one. */
export const CONFIRM_WINDOW_MS = 60_000;

/**
 * Approve / Reject from Telegram (docs/notifications.md "Approve and Reject"):
 * only from a configured user in a configured chat; a guarded action's
 * Approve needs a second tap within a minute; the decision itself is the
 * same transition and audit entry as the UI's. Answers the text Telegram
 * shows the tapper.
 */
export class TapHandler {
  /** `<user>|<token>` → when the first tap on Approve of a guarded action came. */
  private readonly armed = new Map<string, number>();
  /** Taps refused (wrong chat or user, unknown button): logged and counted. */
  refused = 0;

  constructor(private readonly deps: TapDeps) {}

  async handle(tap: Tap): Promise<{ text: string; refused?: true }> {
    const d = this.deps;
    if (tap.chatId === undefined || !d.chatIds.includes(tap.chatId)) return this.refuse('This chat is not one the hub takes decisions from.');
    if (!d.allowedUserIds.includes(tap.userId)) return this.refuse('You are not allowed to decide actions.');
    const m = /^([ar]):([A-Za-z0-9_-]{16})$/.exec(tap.data);
    if (!m) return this.refuse('Unknown button.');
    const [, choice, token] = m as unknown as [string, 'a' | 'r', string];
    const item = d.itemByToken(token);
    if (!item || item.kind !== 'action') return { text: 'This action is no longer followed; see the UI.' };
    if (item.state !== 'pending') return { text: `Already ${item.state}.` };
    const now = d.nowMs();
    for (const [k, at] of this.armed) if (now - at > CONFIRM_WINDOW_MS) this.armed.delete(k);
    if (choice === 'a' && item.risk === 'guarded') {
      const armKey = `${tap.userId}|${token}`;
      if (!this.armed.has(armKey)) {
        this.armed.set(armKey, now);
        return { text: `${item.type} is guarded: tap Approve again within a minute to confirm.` };
      }
      this.armed.delete(armKey);
    }
    const to = choice === 'a' ? 'approved' : 'rejected';
    const r = await d.decide(item, to, tap.userName);
    if (r === 'decided') return { text: `${to === 'approved' ? 'Approved' : 'Rejected'} ${item.id}.` };
    if (r === 'conflict') return { text: 'Someone decided first (or it ended); see the message.' };
    return { text: 'This action no longer exists.' };
  }

  private refuse(text: string): { text: string; refused: true } {
    this.refused += 1;
    return { text, refused: true };
  }
}

/** How a Telegram user is named in the audit: at most 64 characters, the numeric id always kept. */
export function telegramUserName(u: { id: number; username?: string; first_name?: string }): string {
  const id = `(tg ${u.id})`;
  const name = (u.username ? `@${u.username}` : (u.first_name ?? '').replace(/[\u0000-\u001f\u007f]/g, ' ').trim()).slice(0, 64 - id.length - 1);
  return name ? `${name} ${id}` : id;
}
