import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HA_CONFIG_SCHEMAS, HaComponent, topics, type Action } from '@homelab/contracts';
import { makeTempDir, sleep, startMosquitto, waitFor, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * docs/home-assistant.md on a real Mosquitto configured only with the files of
 * `homelab broker-config`: Home Assistant's identity (`homelab nodes add ha
 * --role homeassistant`) reads the retained discovery configs with
 * `mosquitto_sub` after a hub restart, after the broker lost them and HA's
 * birth came, and without a service deleted from services.yaml; an Approve
 * press approves through the hub's one decision path; and the HA identity
 * publishes nowhere but its own topics.
 */
const PREFIX = 'homeassistant';
const Z2M_CONFIG = `${PREFIX}/binary_sensor/homelab_piha/zigbee2mqtt_problem/config`;
const CONNECTIVITY = `${PREFIX}/binary_sensor/homelab_piha/connectivity/config`;
const ACTION_ID = 'container-restart-piha-mosquitto';
const BUTTON = `${PREFIX}/button/homelab_piha/approve_${ACTION_ID}/config`;
const T0 = '2026-11-26T14:02:00.000Z';

async function run(args: string[], name: string): Promise<void> {
  const proc = homelab(args, { name, env: { LOG_LEVEL: 'warn' } });
  expect(await proc.exited, proc.output()).toBe(0);
}

/** What `mosquitto_sub` shows retained under `filter` as `user`: topic → payload. */
function retainedVia(port: number, user: string, password: string, filter: string): Promise<Map<string, string>> {
  return new Promise((resolve) => {
    // `%r`: the retain flag; messages published while it listens come with 0 and are left out.
    // (--retained-only would stop at the first of those, before every retained one was read.)
    const args = ['-h', '127.0.0.1', '-p', String(port), '-u', user, '-P', password, '-t', filter, '-W', '2', '-F', '%r %t %p'];
    // -W ends it with status 27 after 2 s: what it printed is the answer.
    execFile('mosquitto_sub', args, (_err, stdout) => {
      const out = new Map<string, string>();
      for (const line of stdout.split('\n')) {
        const m = /^1 (\S+) (.*)$/.exec(line);
        if (m) out.set(m[1]!, m[2]!);
      }
      resolve(out);
    });
  });
}

/** Makes identities with the real `homelab nodes add`; returns name → secret. */
async function addIdentities(root: string, dir: string, ids: ReadonlyArray<readonly [string, string]>, tag: string): Promise<Record<string, string>> {
  const secrets: Record<string, string> = {};
  for (const [name, role] of ids) {
    const file = path.join(dir, `${name}.secret`);
    await run(['nodes', 'add', name, '--role', role, '--root', root, '--secret-file', file], `${tag}-nodes-add-${name}`);
    secrets[name] = (await fs.readFile(file, 'utf8')).trim();
  }
  return secrets;
}

/** A pending action, as the supervisor would have written it: its Approve button is offered. */
async function writePendingAction(root: string): Promise<void> {
  const pending: Action = {
    id: ACTION_ID,
    type: 'container_restart',
    risk: 'low',
    node: 'piha',
    service: 'mosquitto',
    state: 'pending',
    drift: { type: 'unhealthy_service', reason: 'containers_not_running', eventIds: [], firstSeen: T0 },
    summary: 'piha/mosquitto: containers not running',
    createdAt: T0,
    updatedAt: T0,
    audit: [{ at: T0, state: 'pending', by: 'supervisor', via: 'supervisor' }],
  };
  await fs.mkdir(path.join(root, 'actions/pending'), { recursive: true });
  await fs.writeFile(path.join(root, 'actions/pending', `${ACTION_ID}.json`), JSON.stringify(pending));
}

/** Every config of `configs` has only the fields HA documents for its platform. */
function expectDocumentedFields(configs: Map<string, string>): void {
  for (const [topic, payload] of configs) {
    if (!topic.endsWith('/config')) continue;
    const component = HaComponent.parse(topic.split('/')[1]);
    expect(HA_CONFIG_SCHEMAS[component].safeParse(JSON.parse(payload)).error?.issues ?? [], topic).toEqual([]);
  }
}

describe('Home Assistant discovery on Mosquitto', () => {
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let mosquitto: MosquittoHandle;
  let hub: HubProcess;
  const secret: Record<string, string> = {};
  const hubEnv = () => ({
    HOMELAB_MQTT_PASSWORD_FILE: path.join(tmp.path, 'homelab-hub.secret'),
    HOMELAB_HA_DISCOVERY: 'true',
    HOMELAB_HA_APPROVE_BUTTONS: 'true',
    HOMELAB_SUPERVISOR_INTERVAL_MS: '500',
  });
  const startHub = (name: string) => startHubProcess({ root, hostsDir, name, mqttUrl: mosquitto.url, env: hubEnv() });

  const retained = (user: string, filter: string) => retainedVia(mosquitto.port, user, secret[user]!, filter);
  const discovery = () => retained('ha', `${PREFIX}/#`);
  /** Connects as `user`, publishes, disconnects. */
  const publishAs = async (user: string, topic: string, payload: string, retain = false) => {
    const c = await mqtt.connectAsync(mosquitto.url, { username: user, password: secret[user]!, reconnectPeriod: 0 });
    await c.publishAsync(topic, payload, { qos: 1, retain });
    await c.endAsync();
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-ha-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n  mosquitto: {}\n' });
    Object.assign(
      secret,
      await addIdentities(
        root,
        tmp.path,
        [
          ['homelab-hub', 'hub'],
          ['ha', 'homeassistant'],
          ['watch', 'inspector'],
        ],
        'ha',
      ),
    );
    const out = path.join(tmp.path, 'mosquitto');
    await run(['broker-config', '--root', root, '--out', out, '--ha-approve-buttons'], 'ha-broker-config');
    const conf = (await fs.readFile(path.join(out, 'mosquitto.conf'), 'utf8'))
      .split('\n')
      .filter((l) => !l.startsWith('listener'))
      .join('\n');
    mosquitto = await startMosquitto({ extraConfig: conf });
    await writePendingAction(root);
    hub = await startHub('ha-hub');
  }, 120_000);

  afterAll(async () => {
    await hub?.proc.stop();
    await mosquitto?.stop();
    await tmp?.cleanup();
  });

  it('leaves retained configs Home Assistant reads, each with only the fields HA documents for its platform', async () => {
    const configs = await waitFor(
      async () => {
        const d = await discovery();
        return d.has(Z2M_CONFIG) && d.has(CONNECTIVITY) && d.has(BUTTON) ? d : null;
      },
      { timeoutMs: 20_000, what: 'the discovery configs via mosquitto_sub as ha' },
    );
    expectDocumentedFields(configs);
    expect(JSON.parse(configs.get(Z2M_CONFIG)!)).toMatchObject({ device_class: 'problem', unique_id: 'homelab_piha_zigbee2mqtt_problem' });
    // The state topics the configs name are readable by HA too.
    const state = await retained('ha', topics.nodeState('piha'));
    expect(JSON.parse(state.get(topics.nodeState('piha'))!)).toMatchObject({ node: 'piha', sensors: {} });
  });

  it('publishes the same configs again after a hub restart', async () => {
    const before = await discovery();
    await hub.proc.stop();
    // Cleared while the hub is down (as a broker without persistence would have lost them).
    for (const topic of before.keys()) if (topic.endsWith('/config')) await publishAs('homelab-hub', topic, '', true);
    expect([...(await discovery()).keys()].filter((t) => t.endsWith('/config'))).toEqual([]);
    hub = await startHub('ha-hub-restarted');
    const after = await waitFor(
      async () => {
        const d = await discovery();
        return d.size >= before.size ? d : null;
      },
      { timeoutMs: 20_000, what: 'the configs back after the restart' },
    );
    expect(after).toEqual(before);
  });

  it("publishes every config again when Home Assistant's birth arrives after the broker lost them", async () => {
    // Mosquitto logs each subscription (log_type all): the hub's to HA's status, once per connection.
    const hubSubscribedToBirth = async () => (await fs.readFile(mosquitto.logFile, 'utf8')).split(`${PREFIX}/status (QoS 1)`).length - 1;
    const subscribedBefore = await hubSubscribedToBirth();
    await mosquitto.restart(); // no persistence: every retained message is gone
    // The hub reconnects and subscribes again; nothing it knows has changed, so it waits for HA.
    await waitFor(async () => (await hubSubscribedToBirth()) > subscribedBefore, { timeoutMs: 20_000, what: "the hub subscribed to HA's status again" });
    expect((await discovery()).has(Z2M_CONFIG)).toBe(false);
    await publishAs('ha', `${PREFIX}/status`, 'online');
    await waitFor(
      async () => {
        const d = await discovery();
        return d.has(Z2M_CONFIG) && d.has(CONNECTIVITY) && d.has(BUTTON);
      },
      { timeoutMs: 20_000, what: 'the configs republished after the birth' },
    );
  });

  it('approves the pending action when its button is pressed, audited as home-assistant, and removes the button', async () => {
    const button = JSON.parse((await discovery()).get(BUTTON)!) as { command_topic: string; payload_press: string };
    await publishAs('ha', button.command_topic, button.payload_press);
    const approved = await waitFor(
      async () => {
        const a = (await (await hub.api(`/api/actions/${ACTION_ID}`)).json()) as Action;
        return a.state !== 'pending' ? a : null;
      },
      { timeoutMs: 20_000, what: 'the action approved' },
    );
    expect(approved.audit.find((e) => e.state === 'approved')).toMatchObject({ by: 'home-assistant', via: 'home-assistant' });
    await waitFor(async () => ((await discovery()).has(BUTTON) ? null : true), { timeoutMs: 20_000, what: 'the button removed' });
  });

  it('removes the config of a service deleted from services.yaml while the hub runs', async () => {
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  mosquitto: {}\n' });
    await waitFor(async () => ((await discovery()).has(Z2M_CONFIG) ? null : true), { timeoutMs: 20_000, what: 'the zigbee2mqtt config removed' });
    expect((await discovery()).has(`${PREFIX}/binary_sensor/homelab_piha/mosquitto_problem/config`)).toBe(true);
  });

  it('removes at start the config of a service deleted from services.yaml while the hub was down', async () => {
    const mosquittoProblem = `${PREFIX}/binary_sensor/homelab_piha/mosquitto_problem/config`;
    expect((await discovery()).has(mosquittoProblem)).toBe(true);
    await hub.proc.stop();
    await writeHosts(hostsDir, { piha: 'node: piha\nservices: {}\n' });
    hub = await startHub('ha-hub-after-removal');
    await waitFor(async () => ((await discovery()).has(mosquittoProblem) ? null : true), { timeoutMs: 20_000, what: 'the stale config removed' });
    expect((await discovery()).has(CONNECTIVITY)).toBe(true);
  });

  it('lets the Home Assistant identity publish its status and nothing else', async () => {
    const fakeConfig = `${PREFIX}/binary_sensor/homelab_piha/forged/config`;
    const fakeState = topics.nodeState('piha');
    await publishAs('ha', `${PREFIX}/status`, 'online', true);
    await publishAs('ha', fakeConfig, '{"forged":true}', true);
    await publishAs('ha', fakeState, '{"forged":true}', true);
    await publishAs('ha', topics.serviceState('piha', 'mosquitto'), '{"forged":true}', true);
    await publishAs('ha', topics.desired('piha'), '{"forged":true}', true);
    const d = await discovery();
    expect(d.get(`${PREFIX}/status`)).toBe('online'); // its own topic: kept
    expect(d.has(fakeConfig)).toBe(false);
    const homelab = await retained('watch', 'homelab/#');
    expect([...homelab.values()].filter((p) => p.includes('forged'))).toEqual([]);
    expect(homelab.has(fakeState)).toBe(true); // the hub's own, still there
  });
});

/**
 * The same on the hub's embedded broker, whose ACL comes from the hub's own
 * settings: HA reads the configs, its birth makes the hub send them again,
 * its button approves, and a publish anywhere else costs it its connection
 * (aedes drops a client whose publish the ACL refuses) and reaches nobody.
 */
describe('Home Assistant discovery on the embedded broker', () => {
  let tmp: TempDir;
  let root: string;
  let hub: HubProcess;
  let port: number;
  let secret: Record<string, string>;
  const discovery = () => retainedVia(port, 'ha', secret.ha!, `${PREFIX}/#`);

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-ha-embedded-');
    root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n  mosquitto: {}\n' });
    secret = await addIdentities(
      root,
      tmp.path,
      [
        ['ha', 'homeassistant'],
        ['watch', 'inspector'],
      ],
      'ha-embedded',
    );
    await writePendingAction(root);
    hub = await startHubProcess({
      root,
      hostsDir,
      name: 'ha-embedded-hub',
      env: { HOMELAB_HA_DISCOVERY: 'true', HOMELAB_HA_APPROVE_BUTTONS: 'true', HOMELAB_SUPERVISOR_INTERVAL_MS: '500' },
    });
    port = Number(new URL(hub.mqttUrl).port);
  }, 120_000);

  afterAll(async () => {
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  it('leaves retained configs HA reads, and sends them again when HA announces itself', async () => {
    const configs = await waitFor(
      async () => {
        const d = await discovery();
        return d.has(Z2M_CONFIG) && d.has(CONNECTIVITY) && d.has(BUTTON) ? d : null;
      },
      { timeoutMs: 20_000, what: 'the discovery configs via mosquitto_sub as ha' },
    );
    expectDocumentedFields(configs);
    // As HA: subscribe (the retained configs come first), announce the birth, and get every config again, live.
    const ha = await mqtt.connectAsync(hub.mqttUrl, { username: 'ha', password: secret.ha!, reconnectPeriod: 0 });
    const live = new Set<string>();
    ha.on('message', (topic, _payload, packet) => {
      if (!packet.retain) live.add(topic);
    });
    await ha.subscribeAsync(`${PREFIX}/#`, { qos: 1 });
    await ha.publishAsync(`${PREFIX}/status`, 'online', { qos: 0 });
    await waitFor(() => [...configs.keys()].every((t) => live.has(t)) || null, { timeoutMs: 20_000, what: 'every config sent again after the birth' });
    await ha.endAsync();
  });

  it('approves the pending action when its button is pressed, audited as home-assistant', async () => {
    const button = JSON.parse((await discovery()).get(BUTTON)!) as { command_topic: string; payload_press: string };
    const ha = await mqtt.connectAsync(hub.mqttUrl, { username: 'ha', password: secret.ha!, reconnectPeriod: 0 });
    await ha.publishAsync(button.command_topic, button.payload_press, { qos: 1 });
    await ha.endAsync();
    const approved = await waitFor(
      async () => {
        const a = (await (await hub.api(`/api/actions/${ACTION_ID}`)).json()) as Action;
        return a.state !== 'pending' ? a : null;
      },
      { timeoutMs: 20_000, what: 'the action approved' },
    );
    expect(approved.audit.find((e) => e.state === 'approved')).toMatchObject({ by: 'home-assistant', via: 'home-assistant' });
    // Counted once the press is handled to its end (just after the move to approved/).
    const counted = await waitFor(
      async () => {
        const health = (await (await fetch(`${hub.httpUrl}/healthz`)).json()) as { homeAssistant: Record<string, number> };
        return health.homeAssistant.pressesApproved === 1 ? health.homeAssistant : null;
      },
      { timeoutMs: 5_000, what: 'the press counted in /healthz' },
    );
    expect(counted).toMatchObject({ births: 1, pressesRefused: 0, invalid: 0 });
    expect(counted.published).toBeGreaterThan(0);
  });

  it('drops the HA identity when it publishes outside its topics, and nobody receives it', async () => {
    const forged = [`${PREFIX}/binary_sensor/homelab_piha/forged/config`, topics.nodeState('piha'), topics.events('piha'), topics.commands('piha')];
    for (const topic of forged) {
      const ha = await mqtt.connectAsync(hub.mqttUrl, { username: 'ha', password: secret.ha!, reconnectPeriod: 0 });
      const closed = new Promise<boolean>((resolve) => ha.once('close', () => resolve(true)));
      ha.publish(topic, '{"forged":true}', { qos: 1, retain: true }, () => undefined);
      expect(await Promise.race([closed, sleep(3_000).then(() => false)]), `cut off after publishing on ${topic}`).toBe(true);
      ha.end(true);
    }
    expect((await discovery()).has(forged[0]!)).toBe(false);
    const homelab = await retainedVia(port, 'watch', secret.watch!, 'homelab/#');
    expect([...homelab.values()].filter((p) => p.includes('forged'))).toEqual([]);
    expect(homelab.has(topics.nodeState('piha'))).toBe(true); // the hub's own, still there
  });
});
