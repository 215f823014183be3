import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookBody } from '@homelab/contracts';
import { BotApiServer, HttpRecorder, makeTempDir, type TempDir } from '@homelab/testkit';
import { homelab } from '../support/stack';

/**
 * `homelab notify test` as an operator runs it (docs/notifications.md): one test message
 * through each notifier of <root>/notifications.yaml, against a local Bot API server and
 * local HTTP servers; which failed and why; a wrong file named with its field.
 */
describe('homelab notify test', () => {
  const TOKEN = '1:cli-token';
  let tmp: TempDir;
  let bot: BotApiServer;
  let ntfy: HttpRecorder;
  let hook: HttpRecorder;

  const run = async (root: string, env: NodeJS.ProcessEnv = {}) => {
    const proc = homelab(['notify', 'test', '--root', root], { name: `notify-cli-${path.basename(root)}`, env: { LOG_LEVEL: 'info', ...env } });
    const code = await proc.exited;
    return { code, out: proc.output() };
  };
  const writeConfig = async (name: string, yaml: string) => {
    const root = path.join(tmp.path, name);
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(path.join(root, 'notifications.yaml'), yaml);
    return root;
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-notify-cli-');
    bot = await new BotApiServer(TOKEN).start();
    ntfy = await new HttpRecorder().start();
    hook = await new HttpRecorder().start();
  });

  afterAll(async () => {
    await Promise.all([bot?.close(), ntfy?.close(), hook?.close()]);
    await tmp?.cleanup();
  });

  it('sends one test message through each notifier and says which failed and why', async () => {
    hook.status = 500;
    const root = await writeConfig(
      'all',
      `telegram: {apiRoot: '${bot.url}', chatIds: [11, 12]}\nntfy: {url: '${ntfy.url}', topic: homelab}\nwebhook: {url: '${hook.url}/h', secretEnv: HOOK}\n`,
    );
    const { code, out } = await run(root, { HOMELAB_TELEGRAM_BOT_TOKEN: TOKEN, HOOK: 's' });
    expect(out).toContain('telegram: ok');
    expect(out).toContain('ntfy: ok');
    expect(out).toMatch(/webhook: FAILED: webhook http:\/\/127\.0\.0\.1:\d+\/h answered 500/);
    expect(code).toBe(1);
    expect(bot.messages.map((m) => m.chatId)).toEqual([11, 12]);
    expect(bot.messages[0]!.text).toMatch(/^homelab test message from .+: this notifier works\.$/);
    expect(ntfy.received).toHaveLength(1);
    expect(ntfy.received[0]!.headers.title).toBe('homelab: test');

    hook.status = 200;
    const again = await run(root, { HOMELAB_TELEGRAM_BOT_TOKEN: TOKEN, HOOK: 's' });
    expect(again.code).toBe(0);
    const r = hook.received[0]!;
    expect(r.headers['x-homelab-signature']).toBe(`sha256=${createHmac('sha256', 's').update(r.body).digest('hex')}`);
    expect(WebhookBody.parse(JSON.parse(r.body)).kind).toBe('test');
  });

  it('names a Telegram token the Bot API refuses', async () => {
    const root = await writeConfig('badtoken', `telegram: {apiRoot: '${bot.url}', chatIds: [11]}\n`);
    const { code, out } = await run(root, { HOMELAB_TELEGRAM_BOT_TOKEN: '1:wrong' });
    expect(out).toMatch(/telegram: FAILED: .*401.*Unauthorized/);
    expect(code).toBe(1);
  });

  it('refuses a wrong file with the field named, and says when there is none', async () => {
    const root = await writeConfig('wrong', `ntfy: {url: '${ntfy.url}', topic: 'a/b'}\n`);
    const wrong = await run(root);
    expect(wrong.code).toBe(1);
    expect(wrong.out).toContain(`${root}/notifications.yaml: ntfy.topic: letters, digits, _ and - only (up to 64)`);
    const missing = await run(path.join(tmp.path, 'none'));
    expect(missing.code).toBe(2);
    expect(missing.out).toContain('nothing is configured to notify');
  });

  it('stops the hub at start on a wrong file, naming the file and the field', async () => {
    const root = await writeConfig('hub-wrong', `telegram: {chatIds: [1], allowedUserIds: [alice]}\n`);
    const hostsDir = path.join(tmp.path, 'hosts');
    await fs.mkdir(hostsDir, { recursive: true });
    const hub = homelab(['hub', '--root', root, '--hosts', hostsDir, '--http-port', '0', '--mqtt-port', '0'], {
      name: 'notify-cli-hub-wrong',
      env: { LOG_LEVEL: 'info', HOMELAB_TELEGRAM_BOT_TOKEN: TOKEN },
    });
    expect(await hub.exited).toBe(1);
    expect(hub.output()).toContain(`${root}/notifications.yaml: telegram.allowedUserIds.0: must be a numeric Telegram id`);
  });
});
