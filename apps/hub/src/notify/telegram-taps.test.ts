import { describe, expect, it } from 'vitest';
import type { NotifyItem } from '@homelab/contracts';
import { itemToken } from './render';
import { CONFIRM_WINDOW_MS, TapHandler, telegramUserName, type Tap } from './telegram-taps';

const KEY = 'redeploy-piha-web@2026-11-26T14:02:00.000Z';
const TOKEN = itemToken(KEY);
const guarded: NotifyItem = {
  key: KEY,
  kind: 'action',
  node: 'piha',
  state: 'pending',
  since: '2026-11-26T14:02:00.000Z',
  id: 'redeploy-piha-web',
  type: 'redeploy',
  risk: 'guarded',
};

function handler(item: NotifyItem | undefined, outcome: 'decided' | 'conflict' | 'not_found' = 'decided') {
  let now = 0;
  const decided: string[] = [];
  const h = new TapHandler({
    chatIds: [10],
    allowedUserIds: [7],
    itemByToken: (t) => (t === TOKEN ? item : undefined),
    decide: async (i, to, by) => {
      decided.push(`${i.id} ${to} ${by}`);
      return outcome;
    },
    nowMs: () => now,
  });
  return { h, decided, advance: (ms: number) => (now += ms) };
}
const tap = (data: string, over: Partial<Tap> = {}): Tap => ({ data, userId: 7, userName: '@alice (tg 7)', chatId: 10, ...over });

describe('Telegram taps', () => {
  it.each<[string, NotifyItem | undefined, Tap, string, boolean]>([
    ['from another chat', guarded, tap(`r:${TOKEN}`, { chatId: 11 }), 'This chat is not one the hub takes decisions from.', true],
    ['without a chat', guarded, tap(`r:${TOKEN}`, { chatId: undefined }), 'This chat is not one the hub takes decisions from.', true],
    ['from a user not allowed', guarded, tap(`r:${TOKEN}`, { userId: 8 }), 'You are not allowed to decide actions.', true],
    ['with data the hub never sent', guarded, tap('x:whatever'), 'Unknown button.', true],
    ['on a message no longer followed', undefined, tap(`r:${TOKEN}`), 'This action is no longer followed; see the UI.', false],
    ['on an action decided meanwhile', { ...guarded, state: 'approved' }, tap(`r:${TOKEN}`), 'Already approved.', false],
  ])('decides nothing on a tap %s', async (_n, item, t, text, refused) => {
    const { h, decided } = handler(item);
    expect(await h.handle(t)).toEqual(refused ? { text, refused: true } : { text });
    expect(decided).toEqual([]);
    expect(h.refused).toBe(refused ? 1 : 0);
  });

  it('rejects a guarded action with one tap', async () => {
    const { h, decided } = handler(guarded);
    expect((await h.handle(tap(`r:${TOKEN}`))).text).toBe('Rejected redeploy-piha-web.');
    expect(decided).toEqual(['redeploy-piha-web rejected @alice (tg 7)']);
  });

  it('approves a guarded action only on a second tap by the same user within a minute', async () => {
    const { h, decided } = handler(guarded);
    await h.handle(tap(`a:${TOKEN}`));
    await h.handle(tap(`a:${TOKEN}`, { userId: 7, chatId: 10 }));
    expect(decided).toEqual(['redeploy-piha-web approved @alice (tg 7)']);
    // A first tap that waited longer than the window counts as a first tap again.
    const late = handler(guarded);
    await late.h.handle(tap(`a:${TOKEN}`));
    late.advance(CONFIRM_WINDOW_MS + 1);
    expect((await late.h.handle(tap(`a:${TOKEN}`))).text).toContain('tap Approve again');
    expect(late.decided).toEqual([]);
  });

  it('approves a low-risk action with one tap and says when someone else decided first', async () => {
    const low = { ...guarded, risk: 'low' as const, type: 'container_restart' as const };
    expect((await handler(low).h.handle(tap(`a:${TOKEN}`))).text).toBe('Approved redeploy-piha-web.');
    expect((await handler(low, 'conflict').h.handle(tap(`a:${TOKEN}`))).text).toBe('Someone decided first (or it ended); see the message.');
  });

  it.each([
    [{ id: 7, username: 'alice' }, '@alice (tg 7)'],
    [{ id: 8, first_name: 'Bob\nEvil' }, 'Bob Evil (tg 8)'],
    [{ id: 9 }, '(tg 9)'],
    [{ id: 10, username: 'u'.repeat(80) }, `@${'u'.repeat(55)} (tg 10)`],
  ])('names Telegram user %j in the audit as %s', (u, name) => {
    expect(telegramUserName(u)).toBe(name);
  });
});
