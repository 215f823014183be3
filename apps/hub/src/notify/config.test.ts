import { describe, expect, it } from 'vitest';
import { resolveNotifyConfig } from './config';

const env = { TG: '123:abc', NTFY: 'tk_1', HOOK: 's3cret' };
const resolve = (raw: unknown, e: NodeJS.ProcessEnv = env) => resolveNotifyConfig(raw, e, '/data/notifications.yaml');

describe('notification settings', () => {
  it('reads every notifier with its secret from the environment and fills the defaults', () => {
    const c = resolve({
      uiUrl: 'http://hub.lan:18180',
      telegram: { botTokenEnv: 'TG', chatIds: [-1001, '42'], allowedUserIds: [7] },
      ntfy: { url: 'http://ntfy.lan/', topic: 'homelab', tokenEnv: 'NTFY' },
      webhook: { url: 'http://hooks.lan/x', secretEnv: 'HOOK', rateLimitPerMinute: 5 },
    });
    expect(c.telegram).toEqual({ botToken: '123:abc', chatIds: [-1001, 42], allowedUserIds: [7], perMinute: 20 });
    expect(c.ntfy).toEqual({ url: 'http://ntfy.lan', topic: 'homelab', token: 'tk_1', perMinute: 20 });
    expect(c.webhook).toEqual({ url: 'http://hooks.lan/x', secret: 's3cret', perMinute: 5 });
    expect(c.graceMs).toBe(60_000);
    expect(c.nodeAlerts).toBe(true);
  });

  it.each<[string, unknown, NodeJS.ProcessEnv, RegExp]>([
    [
      'a chat id that is not a number',
      { telegram: { botTokenEnv: 'TG', chatIds: ['@mychannel'] } },
      env,
      /telegram\.chatIds\.0: must be a numeric Telegram id/,
    ],
    ['no chat at all', { telegram: { botTokenEnv: 'TG', chatIds: [] } }, env, /telegram\.chatIds: name at least one chat id/],
    [
      'a token variable that is not set',
      { telegram: { botTokenEnv: 'NOPE', chatIds: [1] } },
      env,
      /telegram\.botTokenEnv: environment variable NOPE is not set/,
    ],
    ['the default token variable not set', { telegram: { chatIds: [1] } }, env, /environment variable HOMELAB_TELEGRAM_BOT_TOKEN is not set/],
    ['an ntfy URL that is not http', { ntfy: { url: 'ftp://x', topic: 't' } }, env, /ntfy\.url: must be an http/],
    ['an ntfy topic with a slash', { ntfy: { url: 'http://x', topic: 'a/b' } }, env, /ntfy\.topic: letters, digits/],
    [
      'a webhook secret variable not set',
      { webhook: { url: 'http://x', secretEnv: 'MISSING' } },
      env,
      /webhook\.secretEnv: environment variable MISSING is not set/,
    ],
    ['a secret written into the file', { webhook: { url: 'http://x', secret: 'inline' } }, env, /webhook: Unrecognized key: "secret"/],
    ['a misspelt setting', { graceSecond: 10 }, env, /\(file\): Unrecognized key: "graceSecond"/],
    ['quiet hours not as HH:MM', { quietHours: { from: '10pm', to: '07:00' } }, env, /quietHours\.from: must be HH:MM/],
    ['an unknown time zone', { quietHours: { from: '22:00', to: '07:00', timeZone: 'Mars/Olympus' } }, env, /quietHours\.timeZone: not a time zone/],
    ['a negative grace period', { graceSeconds: -1 }, env, /graceSeconds: Too small/],
    [
      'a webhook secret token Telegram would refuse',
      { telegram: { botTokenEnv: 'TG', chatIds: [1], webhook: { url: 'https://hub.example/telegram/webhook', secretTokenEnv: 'SHORT' } } },
      { ...env, SHORT: 'abc' },
      /telegram\.webhook\.secretTokenEnv: the secret token must be 16 to 256 characters/,
    ],
    [
      'a webhook secret token variable not set',
      { telegram: { botTokenEnv: 'TG', chatIds: [1], webhook: { url: 'https://hub.example/telegram/webhook' } } },
      env,
      /telegram\.webhook\.secretTokenEnv: environment variable HOMELAB_TELEGRAM_WEBHOOK_SECRET is not set/,
    ],
  ])('refuses %s, naming the file and the field', (_n, raw, e, message) => {
    expect(() => resolve(raw, e)).toThrow(message);
    expect(() => resolve(raw, e)).toThrow(/^\/data\/notifications\.yaml: /);
  });
});
