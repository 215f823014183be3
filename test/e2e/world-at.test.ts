import fs from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { WorldAtView, WorldDiff } from '@homelab/hub';
import { makeTempDir, sleep, waitFor, type TempDir } from '@homelab/testkit';
import { provisionMqtt, testSecret } from '../support/mqtt-identities';
import { homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

const NODE = 'piha';

/**
 * Time travel on the real hub (docs/ui-api.md, "World at a past instant"):
 * a service goes unhealthy then healthy over MQTT; `/api/world?at=` and
 * `homelab world --at` show each state at its instant, from a history
 * snapshot the hub wrote, and `--diff` names the change.
 */
describe('world state at a past instant on the real hub', () => {
  let tmp: TempDir;
  let hub: HubProcess;
  let client: MqttClient;
  let t1: string;
  let t2: string;

  const run = async (args: string[]) => {
    const proc = homelab(args, {
      name: `world-at-cli-${args[1] ?? ''}`.replace(/[^a-z0-9-]/gi, ''),
      env: { LOG_LEVEL: 'warn', HOMELAB_HUB_URL: hub.httpUrl, HOMELAB_TOKEN: hub.auth.viewerToken },
    });
    return { code: await proc.exited, out: proc.output() };
  };
  const serviceStatus = async () => ((await (await hub.api('/api/world', { token: hub.auth.viewerToken })).json()) as any).services[`${NODE}/app`]?.status;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-world-at-');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { [NODE]: `node: ${NODE}\nservices:\n  app:\n    containers: [app]\n` });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'world-at-hub', env: { HOMELAB_HISTORY_INTERVAL_MS: '1000' } });
    await provisionMqtt(hub.root, [NODE]);
    client = await mqtt.connectAsync(hub.mqttUrl, { clientId: NODE, username: NODE, password: testSecret(NODE), reconnectPeriod: 0 });
    const publish = (e: Record<string, unknown>) =>
      client.publishAsync(topics.events(NODE), JSON.stringify({ id: `${NODE}-${e.seq}`, node: NODE, ts: new Date().toISOString(), ...e }), { qos: 1 });
    await publish({ seq: 1, type: 'service_unhealthy', service: 'app', data: { reason: 'containers_not_running' } });
    await waitFor(async () => (await serviceStatus()) === 'unhealthy', { timeoutMs: 30_000, what: 'app unhealthy' });
    t1 = new Date().toISOString();
    // The history loop (every second here) writes a snapshot holding the unhealthy app.
    await waitFor(async () => (await fs.readdir(path.join(hub.root, 'state/history')).catch(() => [])).length > 0, {
      timeoutMs: 30_000,
      what: 'a history snapshot',
    });
    await sleep(20);
    await publish({ seq: 2, type: 'service_healthy', service: 'app' });
    await waitFor(async () => (await serviceStatus()) === 'healthy', { timeoutMs: 30_000, what: 'app healthy' });
    t2 = new Date().toISOString();
  }, 120_000);

  afterAll(async () => {
    await client?.endAsync();
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  it('answers /api/world?at= with the state of each instant, the later one from a snapshot', async () => {
    const at1 = WorldAtView.parse(await (await hub.api(`/api/world?at=${encodeURIComponent(t1)}`, { token: hub.auth.viewerToken })).json());
    expect(at1.services[`${NODE}/app`]).toMatchObject({ status: 'unhealthy', reason: 'containers_not_running' });
    const at2 = WorldAtView.parse(await (await hub.api(`/api/world?at=${encodeURIComponent(t2)}`, { token: hub.auth.viewerToken })).json());
    expect(at2.services[`${NODE}/app`]?.status).toBe('healthy');
    expect(at2.basedOn).not.toBeNull();
    const before = WorldAtView.parse(await (await hub.api('/api/world?at=2000-01-01T00:00:00Z', { token: hub.auth.viewerToken })).json());
    expect(before.services).toEqual({});
  });

  it('answers ?at=&diff= with the change between the two instants', async () => {
    const res = await hub.api(`/api/world?at=${encodeURIComponent(t1)}&diff=${encodeURIComponent(t2)}`, { token: hub.auth.viewerToken });
    const diff = WorldDiff.parse(await res.json());
    expect(diff.services.changed).toEqual([
      expect.objectContaining({
        key: `${NODE}/app`,
        before: expect.objectContaining({ status: 'unhealthy' }),
        after: expect.objectContaining({ status: 'healthy' }),
      }),
    ]);
  });

  it('refuses a time it cannot read with invalid_request', async () => {
    const res = await hub.api('/api/world?at=yesterday-ish', { token: hub.auth.viewerToken });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toBe('invalid_request');
  });

  it('shows the same with homelab world --at and --diff', async () => {
    const at1 = await run(['world', '--at', t1]);
    expect(at1.code, at1.out).toBe(0);
    expect(at1.out).toContain(`${NODE}/app: unhealthy (containers_not_running)`);
    const diff = await run(['world', '--diff', t1, t2]);
    expect(diff.code, diff.out).toBe(0);
    expect(diff.out).toMatch(new RegExp(`~ service ${NODE}/app .*"unhealthy".*→.*"healthy"`));
    const bad = await run(['world', '--at', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.out).toMatch(/ISO times/);
  });
});
