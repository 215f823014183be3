import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { BotApiServer, freePort, makeTempDir, spawnLogged, waitFor, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { REPO_ROOT, homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/** Runs `homelab …` to completion and returns its exit code and output. */
async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = homelab(args, { name: `cli-${args.slice(0, 2).join('-')}`, env: { LOG_LEVEL: 'warn', ...env } });
  const code = await proc.exited;
  return { code, out: proc.output() };
}

describe('the homelab command', () => {
  it.each(['', 'hub', 'agent', 'actions', 'validate', 'replay', 'up', 'mirror', 'auth', 'world'])('explains itself with %s --help', async (sub) => {
    const { code, out } = await run([...(sub ? [sub] : []), '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/Usage: homelab/);
  });

  it('names the file, path and reason of every problem in services.yaml', async () => {
    const tmp = await makeTempDir('hl-cli-');
    await writeHosts(tmp.path, {
      piha: 'node: piha\nservices:\n  zigbee2mqtt:\n    containers: [zigbee2mqtt]\n    restart_polcy: always\n',
      'chelsty-ha': 'node: not-chelsty\nservices: {}\n',
    });
    const { code, out } = await run(['validate', '--hosts', tmp.path]);
    expect(code).toBe(1);
    expect(out).toContain(path.join('piha', 'services.yaml'));
    expect(out).toContain('services.zigbee2mqtt');
    expect(out).toMatch(/restart_polcy/);
    expect(out).toContain(path.join('chelsty-ha', 'services.yaml'));
    await tmp.cleanup();
  });

  it('exits with a message naming --mqtt-port and --mqtt-url when the MQTT port is taken', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const tmp = await makeTempDir('hl-cli-');
    const { code, out } = await run(['hub', '--root', tmp.path, '--hosts', path.join(REPO_ROOT, 'hosts'), '--mqtt-port', String(port), '--http-port', '0']);
    blocker.close();
    expect(code).toBe(1);
    expect(out).toContain(`MQTT port ${port}`);
    expect(out).toContain('--mqtt-port');
    expect(out).toContain('--mqtt-url');
    await tmp.cleanup();
  });

  it('builds the bundled files for the container images that run on their own and print the version of package.json', async () => {
    const build = spawnLogged('npm', ['run', 'build'], { cwd: REPO_ROOT });
    expect(await build.exited).toBe(0);
    const help = spawnLogged(process.execPath, [path.join(REPO_ROOT, 'dist/homelab.mjs'), 'validate', '--hosts', path.join(REPO_ROOT, 'hosts')], { cwd: '/' });
    expect(await help.exited).toBe(0);
    expect(help.output()).toMatch(/ok: 3 nodes/);
    // Both bundles carry the version of package.json, declared there once.
    const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const asks: [string, string[]][] = [
      ['homelab.mjs', ['--version']],
      ['homelab-agent.mjs', ['--version']],
      ['homelab-agent.mjs', ['agent', '-v']],
    ];
    for (const [bundle, args] of asks) {
      const shown = spawnLogged(process.execPath, [path.join(REPO_ROOT, 'dist', bundle), ...args], { cwd: '/' });
      expect(await shown.exited).toBe(0);
      expect(shown.output().trim()).toBe(version);
    }
    // Telegram's client library inside the bundle (its `./platform.node` module, its abort signals).
    const bot = await new BotApiServer('1:bundle').start();
    const tmp = await makeTempDir('hl-cli-bundle-');
    try {
      await fs.writeFile(path.join(tmp.path, 'notifications.yaml'), `telegram: {apiRoot: '${bot.url}', chatIds: [5]}\n`);
      const notify = spawnLogged(process.execPath, [path.join(REPO_ROOT, 'dist/homelab.mjs'), 'notify', 'test', '--root', tmp.path], {
        cwd: '/',
        env: { ...process.env, HOMELAB_TELEGRAM_BOT_TOKEN: '1:bundle' },
      });
      expect(await notify.exited).toBe(0);
      expect(notify.output()).toContain('telegram: ok');
      expect(bot.messages).toHaveLength(1);
    } finally {
      await bot.close();
      await tmp.cleanup();
    }
  });

  it.each(['--version', '-v', '-V', 'version'])('prints the version of package.json with %s', async (flag) => {
    const { version } = JSON.parse(await fs.readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const { code, out } = await run([flag]);
    expect(code).toBe(0);
    expect(out.trim()).toBe(version);
  });
});

describe('homelab actions against a running hub', () => {
  let tmp: TempDir;
  let hub: HubProcess;
  const env = () => ({ HOMELAB_HUB_URL: hub.httpUrl, HOMELAB_TOKEN: hub.auth.operatorToken });

  beforeAll(async () => {
    tmp = await makeTempDir('hl-cli-actions-');
    const root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n  mosquitto: {}\n' });
    const store = new FsActionStore({ root });
    await store.init();
    await store.create(pendingAction('container-restart-piha-zigbee2mqtt'));
    await store.create(pendingAction('redeploy-piha-mosquitto', { type: 'redeploy', risk: 'guarded', service: 'mosquitto' }));
    hub = await startHubProcess({ root, hostsDir, name: 'cli-actions-hub' });
  });

  afterAll(async () => {
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  it('lists pending actions', async () => {
    const { code, out } = await run(['actions', 'list', '--state', 'pending'], env());
    expect(code, out).toBe(0);
    expect(out).toContain('container-restart-piha-zigbee2mqtt');
    expect(out).toContain('redeploy-piha-mosquitto');
  });

  it('rejects an action and records who did it', async () => {
    const { code, out } = await run(['actions', 'reject', 'container-restart-piha-zigbee2mqtt', '--by', 'alice', '--note', 'not now'], env());
    expect(code).toBe(0);
    expect(out).toContain('container-restart-piha-zigbee2mqtt: rejected');
    const stored = JSON.parse(await fs.readFile(path.join(hub.root, 'actions/rejected/container-restart-piha-zigbee2mqtt.json'), 'utf8'));
    expect(stored.audit.at(-1)).toMatchObject({ state: 'rejected', by: 'alice', via: 'cli', note: 'not now' });
  });

  it('approves an action, after which the executor takes it', async () => {
    const { code, out } = await run(['actions', 'approve', 'redeploy-piha-mosquitto', '--by', 'alice'], env());
    expect(code).toBe(0);
    expect(out).toContain('redeploy-piha-mosquitto: approved');
  });

  it('answers a decision on an action that is not pending with a conflict', async () => {
    const { code, out } = await run(['actions', 'reject', 'container-restart-piha-zigbee2mqtt'], env());
    expect(code).toBe(4);
    expect(out).toMatch(/rejected|not pending|conflict/i);
  });

  it('answers an unknown or malformed action id clearly', async () => {
    const unknown = await run(['actions', 'approve', 'container-restart-piha-nothing'], env());
    expect(unknown.code).toBe(3);
    expect(unknown.out).toContain('container-restart-piha-nothing');
    const traversal = await run(['actions', 'approve', '../etc/passwd'], env());
    expect(traversal.code).not.toBe(0);
  });

  it('refuses without a token and says how to give one', async () => {
    const { code, out } = await run(['actions', 'list'], { HOMELAB_HUB_URL: hub.httpUrl, HOMELAB_TOKEN: '', HOMELAB_ROOT: tmp.path });
    expect(code).toBe(1);
    expect(out).toMatch(/--token or HOMELAB_TOKEN/);
  });

  it('adds a viewer token with homelab auth token that the running hub accepts for reads only', async () => {
    const { code, out } = await run(['auth', 'token', '--name', 'mirror-piha', '--role', 'viewer', '--root', hub.root]);
    expect(code, out).toBe(0);
    const token = out.split('\n').find((l) => l.startsWith('hlv_'))!;
    await waitFor(async () => (await hub.api('/api/actions', { token })).status === 200, { timeoutMs: 10_000, what: 'new token accepted' });
    expect((await hub.api('/api/actions/redeploy-piha-mosquitto/reject', { method: 'POST', body: '{}', token })).status).toBe(403);
  });

  it('mirrors world state into a folder with homelab mirror --once', async () => {
    const to = path.join(tmp.path, 'mirror');
    const { code, out } = await run(['mirror', '--from', hub.httpUrl, '--to', to, '--once'], { HOMELAB_TOKEN: hub.auth.viewerToken });
    expect(code, out).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(to, 'world/nodes.json'), 'utf8'))).toMatchObject({ version: 1, nodes: {} });
    expect(JSON.parse(await fs.readFile(path.join(to, 'summary.json'), 'utf8')).nodes.map((n: { node: string }) => n.node)).toContain('piha');
    expect(JSON.parse(await fs.readFile(path.join(to, 'mirror-status.json'), 'utf8'))).toMatchObject({ ok: true });
    const down = await run(['mirror', '--from', 'http://127.0.0.1:9', '--to', to, '--once'], { HOMELAB_TOKEN: hub.auth.viewerToken });
    expect(down.code).toBe(1);
    expect(down.out).toContain('keeping the last copy');
    expect(JSON.parse(await fs.readFile(path.join(to, 'summary.json'), 'utf8')).nodes.length).toBeGreaterThan(0);
  });

  it('finds the hub through CONTROL_PLANE_URL, the variable older mirror deployments set, when HOMELAB_HUB_URL is unset', async () => {
    const to = path.join(tmp.path, 'mirror-alias');
    const { code, out } = await run(['mirror', '--to', to, '--once'], {
      HOMELAB_HUB_URL: '',
      CONTROL_PLANE_URL: hub.httpUrl,
      HOMELAB_TOKEN: hub.auth.viewerToken,
    });
    expect(code, out).toBe(0);
    expect(JSON.parse(await fs.readFile(path.join(to, 'mirror-status.json'), 'utf8'))).toMatchObject({ hub: hub.httpUrl, ok: true });
    const listed = await run(['actions', 'list'], { HOMELAB_HUB_URL: '', CONTROL_PLANE_URL: hub.httpUrl, HOMELAB_TOKEN: hub.auth.viewerToken });
    expect(listed.code, listed.out).toBe(0);
    expect(listed.out).toContain('redeploy-piha-mosquitto');
  });

  it('says where it looked when the hub is unreachable', async () => {
    const { code, out } = await run(['actions', 'list'], { HOMELAB_HUB_URL: 'http://127.0.0.1:9' });
    expect(code).toBe(1);
    expect(out).toContain('cannot reach the hub at http://127.0.0.1:9');
  });
});
