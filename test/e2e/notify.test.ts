import { createHmac } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { WebhookBody } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { BotApiServer, HttpRecorder, makeTempDir, sleep, waitFor, type BotMessage, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { kill9, startFaultHub, type FaultHub, type HubPorts } from '../support/fault';
import { startAgentProcess, writeHosts } from '../support/stack';

/**
 * Notifications on real parts (docs/notifications.md): the real hub and agent
 * on the real Docker engine, Telegram through grammY against a local Bot API
 * server, ntfy and a webhook against local HTTP servers that record what they
 * get. A container stops → one message on each → Approve tapped in Telegram →
 * the container runs again → the message is edited to completed. Then a hub
 * killed with -9 after an action became pending and before its message went
 * out sends that message exactly once after its restart, and no restart sends it again.
 */
describe('notifications through Telegram, ntfy and a webhook', () => {
  const socket = inject('dockerSocket');
  const docker = new Docker({ socketPath: socket });
  const image = inject('busyboxImage');
  const container = `hl-e2e-notify-${process.pid}`;
  const ID = 'container-restart-piha-app';
  const TOKEN = '424242:e2e-token';
  const CHAT = 5150;
  const ALICE = { id: 77, username: 'alice' };
  const SECRET = 'e2e-hook-secret';
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let ports: HubPorts | undefined;
  let hub: FaultHub;
  let incarnation = 0;
  let agent: LoggedProcess;
  let bot: BotApiServer;
  let ntfy: HttpRecorder;
  let hook: HttpRecorder;
  let store: FsActionStore;

  const startHub = async () => {
    hub = await startFaultHub({
      root,
      hostsDir,
      name: `notify-hub-${++incarnation}`,
      ...(ports ? { ports } : {}),
      env: { HOMELAB_TELEGRAM_BOT_TOKEN: TOKEN, HOOK_SECRET: SECRET, HOMELAB_NOTIFY_INTERVAL_MS: '300', HOMELAB_SUPERVISOR_INTERVAL_MS: '1000' },
    });
    ports = hub.ports;
  };
  const running = async () => (await docker.getContainer(container).inspect()).State.Running as boolean;
  const hookBodies = () =>
    hook.received.map((r) => {
      // As a receiver checks it: its own HMAC over the exact bytes.
      expect(r.headers['x-homelab-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
      return WebhookBody.parse(JSON.parse(r.body));
    });

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-notify-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    bot = await new BotApiServer(TOKEN).start();
    ntfy = await new HttpRecorder().start();
    hook = await new HttpRecorder().start();
    await docker.createContainer({ name: container, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } }).then((c) => c.start());
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  app:\n    containers: [${container}]\n    policy: {autoApprove: none}\n` });
    // Every stop makes a new pending restart at once (no backoff between restarts).
    await fs.writeFile(path.join(hostsDir, 'policy.yaml'), "restartBudget: {max: 10, window: 10m, backoff: '0'}\n");
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(
      path.join(root, 'notifications.yaml'),
      [
        'uiUrl: http://hub.lan:18180',
        'graceSeconds: 3',
        'nodeAlerts: false',
        'telegram:',
        `  apiRoot: ${bot.url}`,
        `  chatIds: [${CHAT}]`,
        `  allowedUserIds: [${ALICE.id}]`,
        'ntfy:',
        `  url: ${ntfy.url}`,
        '  topic: homelab',
        'webhook:',
        `  url: ${hook.url}/hook`,
        '  secretEnv: HOOK_SECRET',
        '',
      ].join('\n'),
    );
    await startHub();
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: hub.mqttUrl,
      dockerSocket: socket,
      stateDir: path.join(tmp.path, 'agent'),
      name: 'notify-agent',
      hubRoot: root,
    });
    store = new FsActionStore({ root, log: createLogger('test', { level: 'silent' }) });
    await waitFor(running, { what: 'container running' });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.proc.stop();
    await docker
      .getContainer(container)
      .remove({ force: true })
      .catch(() => undefined);
    await Promise.all([bot?.close(), ntfy?.close(), hook?.close()]);
    await tmp?.cleanup();
  });

  it('stop container → message → Approve tapped in Telegram → container running → message edited to completed', async () => {
    await sleep(2_000); // the agent's first inventory, so the stop is a drift of a known service
    await docker.getContainer(container).stop({ t: 0 });
    const msg: BotMessage = await waitFor(() => bot.messages.find((m) => m.buttons.length > 0), {
      timeoutMs: 60_000,
      what: 'the Telegram message with buttons',
    });
    expect(msg.chatId).toBe(CHAT);
    expect(msg.text).toContain('container_restart piha/app');
    expect(msg.text).toContain('waiting for approval');
    bot.tap(msg, msg.buttons[0]![0]!.callback_data, ALICE);
    await waitFor(running, { timeoutMs: 60_000, what: 'the container started by the approved restart' });
    await waitFor(() => msg.text.includes('completed (approved by @alice (tg 77) via telegram)'), {
      timeoutMs: 30_000,
      what: 'the message edited to completed',
    });
    expect(bot.messages).toHaveLength(1);
    expect(msg.buttons).toEqual([]);
    const done = (await store.list('completed')).find((a) => a.id === ID)!;
    expect(done.audit.filter((e) => e.via === 'telegram')).toEqual([expect.objectContaining({ state: 'approved', by: '@alice (tg 77)' })]);
    await waitFor(() => hookBodies().some((b) => b.items[0]?.state === 'completed'), { timeoutMs: 10_000, what: 'the webhook follow-up' });
    expect(hookBodies()[0]).toMatchObject({ kind: 'opened', items: [{ id: ID, state: 'pending' }] });
    await waitFor(() => ntfy.received.some((r) => r.body.includes('completed')), { timeoutMs: 10_000, what: 'the ntfy follow-up' });
    expect(ntfy.received[0]!.headers.title).toBe('piha: container_restart piha/app pending');
  });

  it('a hub killed with -9 after an action became pending and before its message went out sends it exactly once', async () => {
    const before = { tg: bot.messages.length, ntfy: ntfy.received.length, hook: hook.received.length };
    await docker.getContainer(container).stop({ t: 0 });
    const pending = await waitFor(() => store.list('pending').then((l) => l.find((a) => a.id === ID)), { timeoutMs: 60_000, what: 'the pending action' });
    await kill9(hub.proc);
    // Inside the 3 s grace period: nothing went out before the kill.
    expect(Date.now() - Date.parse(pending.createdAt)).toBeLessThan(3_000);
    expect({ tg: bot.messages.length, ntfy: ntfy.received.length, hook: hook.received.length }).toEqual(before);
    await startHub();
    await waitFor(() => bot.messages.length > before.tg && ntfy.received.length > before.ntfy && hook.received.length > before.hook, {
      timeoutMs: 30_000,
      what: 'the message after the restart',
    });
    await sleep(2_000);
    // A graceful restart too resumes from the outbox, it does not send again.
    await hub.proc.stop();
    await startHub();
    await sleep(3_000);
    expect({ tg: bot.messages.length, ntfy: ntfy.received.length, hook: hook.received.length }).toEqual({
      tg: before.tg + 1,
      ntfy: before.ntfy + 1,
      hook: before.hook + 1,
    });
    expect(hookBodies().at(-1)).toMatchObject({ kind: 'opened', items: [{ id: ID, state: 'pending', since: pending.createdAt }] });
    expect(bot.messages.at(-1)!.buttons.length).toBe(1);
  });

  it('shows a notifier that is down in /healthz with its error, and tells it once it is back', async () => {
    hook.status = 503;
    const a = (await store.list('pending')).find((x) => x.id === ID)!;
    await store.transition(ID, 'pending', 'rejected', (x) => x);
    const health = await waitFor(
      async () => {
        const h = (await (await fetch(`${hub.httpUrl}/healthz`)).json()) as any;
        return h.notifiers?.webhook?.ok === false ? h : null;
      },
      { timeoutMs: 20_000, what: 'the webhook failure in /healthz' },
    );
    expect(health.notifiers.webhook.lastError).toContain('503');
    expect(health.notifiers.telegram.ok).toBe(true);
    // The fleet page says so too, among its notices.
    const creds = JSON.parse(await fs.readFile(path.join(root, 'auth/initial-credentials.json'), 'utf8')) as { viewerToken: string };
    const page = await (await fetch(`${hub.httpUrl}/`, { headers: { authorization: `Bearer ${creds.viewerToken}` } })).text();
    expect(page).toContain('notifier webhook');
    expect(page).toMatch(/failed deliveries in a row, last at [^:]+:\d\d:[\d.]+Z: webhook http:\/\/127\.0\.0\.1:\d+\/hook answered 503/);
    hook.status = 200;
    await waitFor(() => hookBodies().some((b) => b.items[0]?.since === a.createdAt && b.items[0]?.state === 'rejected'), {
      timeoutMs: 30_000,
      what: 'the webhook told after it came back',
    });
  });

  it('a hub killed with -9 while a webhook request is unanswered sends it again with the same delivery id', async () => {
    // The rejected occurrence ends when the service recovers; the next stop is a new action.
    await docker.getContainer(container).start();
    await waitFor(async () => (await store.list('pending')).length === 0 && (await running()), { timeoutMs: 30_000 });
    await sleep(2_000);
    hook.hang = true;
    await docker.getContainer(container).stop({ t: 0 });
    const pending = await waitFor(() => store.list('pending').then((l) => l.find((a) => a.id === ID)), { timeoutMs: 60_000, what: 'the new pending action' });
    await waitFor(() => hook.hung.some((r) => WebhookBody.parse(JSON.parse(r.body)).items[0]?.since === pending.createdAt), {
      timeoutMs: 30_000,
      what: 'the webhook request in flight',
    });
    await kill9(hub.proc);
    hook.hang = false;
    const inFlight = WebhookBody.parse(JSON.parse(hook.hung.at(-1)!.body));
    await startHub();
    const delivered = await waitFor(() => hookBodies().find((b) => b.items[0]?.since === pending.createdAt), {
      timeoutMs: 30_000,
      what: 'the opening after the restart',
    });
    // The receiver never answered the first: it gets it again, and can tell it is the same.
    expect(delivered.deliveryId).toBe(inFlight.deliveryId);
    expect(hook.received.filter((r) => r.headers['x-homelab-delivery'] === inFlight.deliveryId)).toHaveLength(1);
    // Telegram, not held up by the hanging webhook, had its message before the kill and gets no second one.
    await sleep(1_000);
    expect(bot.messages.filter((m) => m.buttons.length > 0)).toHaveLength(1);
  });
});
