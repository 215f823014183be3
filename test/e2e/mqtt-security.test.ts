import fs from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { makeTempDir, sleep, startMosquitto, waitFor, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { homelab, readEvents, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * docs/reliability.md, "Spoofing" and "Injection": nobody acts as a node they are not — the same
 * spoofing cases against the embedded broker and against a real Mosquitto
 * configured only with the files `homelab broker-config` writes. Identities
 * are made with the real `homelab nodes add`.
 *
 * MQTT 3.1.1 has no negative PUBACK: aedes drops a refused publisher,
 * Mosquitto acks and discards. So "refused" is checked where it matters: a
 * watcher reading `homelab/#` never sees the message, and the hub stores
 * nothing for the victim. The watcher has an identity of its own that no test
 * connection uses (on Mosquitto, `use_username_as_clientid` makes a second
 * connection with the same username take over the first), each negative test
 * first shows the watcher receiving an allowed message sent the same way, and
 * ends by checking the watcher is still connected.
 */
const VICTIM = 'chelsty-ha';

/** Runs `homelab …` to completion. */
async function run(args: string[], name: string) {
  const proc = homelab(args, { name, env: { LOG_LEVEL: 'warn' } });
  const code = await proc.exited;
  return { code, out: proc.output() };
}

describe.each(['embedded', 'mosquitto'] as const)('MQTT identities and ACL on the %s broker', (kind) => {
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let hub: HubProcess;
  let mosquitto: MosquittoHandle | undefined;
  let url: string;
  const secrets: Record<string, string> = {};
  const clients: MqttClient[] = [];
  /** Everything the watcher (inspector `watch`) sees under homelab/, as `<topic> <payload>`. */
  const seen: string[] = [];
  let watcher: MqttClient;
  /** A message piha may send (its own results topic; the hub refuses the payload and stores nothing): the watcher must see it. */
  const watcherSees = async (marker: string) => {
    const piha = await asNode('piha');
    await piha.publishAsync(topics.results('piha'), marker, { qos: 1 });
    await waitFor(() => seen.includes(`${topics.results('piha')} ${marker}`), { timeoutMs: 5_000, what: `the watcher sees ${marker}` });
  };

  const connect = async (opts: IClientOptions): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
    clients.push(c);
    return c;
  };
  const asNode = (node: string, clientId = node) => connect({ clientId, username: node, password: secrets[node]! });
  const refused = (opts: IClientOptions) =>
    connect(opts).then(
      () => false,
      () => true,
    );
  /** Publishes and waits long enough for any delivery; a dropped connection counts as refused too. */
  const tryPublish = async (c: MqttClient, topic: string, payload: string) => {
    c.publish(topic, payload, { qos: 1 }, () => undefined);
    await sleep(300);
  };

  beforeAll(async () => {
    tmp = await makeTempDir(`hl-e2e-sec-${kind}-`);
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n', [VICTIM]: `node: ${VICTIM}\nservices:\n  homeassistant: {}\n` });
    // `homelab nodes add` prints the secret alone on stdout (its explanation goes to stderr).
    const add = await run(['nodes', 'add', 'piha', '--root', root], `sec-${kind}-nodes-add`);
    expect(add.code).toBe(0);
    secrets.piha = add.out.split('\n').find((l) => /^[A-Za-z0-9_-]{32}$/.test(l))!;
    expect(secrets.piha).toBeDefined();
    for (const [name, role] of [
      [VICTIM, 'node'],
      ['ops', 'inspector'],
      ['watch', 'inspector'],
      ['homelab-hub', 'hub'],
    ] as const) {
      const file = path.join(tmp.path, `${name}.secret`);
      expect((await run(['nodes', 'add', name, '--role', role, '--root', root, '--secret-file', file], `sec-${kind}-nodes-add-${name}`)).code).toBe(0);
      secrets[name] = (await fs.readFile(file, 'utf8')).trim();
    }

    if (kind === 'mosquitto') {
      const out = path.join(tmp.path, 'mosquitto');
      expect((await run(['broker-config', '--root', root, '--out', out], `sec-${kind}-broker-config`)).code).toBe(0);
      // The generated conf as is, minus its listener (testkit's goes on a free loopback port).
      const conf = (await fs.readFile(path.join(out, 'mosquitto.conf'), 'utf8'))
        .split('\n')
        .filter((l) => !l.startsWith('listener'))
        .join('\n');
      mosquitto = await startMosquitto({ extraConfig: conf });
      const hubSecret = path.join(tmp.path, 'homelab-hub.secret');
      // The hub on the external broker uses its own identity, from a file.
      hub = await startHubProcess({ root, hostsDir, name: `sec-${kind}-hub`, mqttUrl: mosquitto.url, env: { HOMELAB_MQTT_PASSWORD_FILE: hubSecret } });
      url = mosquitto.url;
    } else {
      hub = await startHubProcess({ root, hostsDir, name: `sec-${kind}-hub` });
      url = hub.mqttUrl;
    }
    watcher = await connect({ clientId: 'watch', username: 'watch', password: secrets.watch! });
    watcher.on('message', (t, p) => seen.push(`${t} ${p.toString()}`));
    await watcher.subscribeAsync('homelab/#', { qos: 1 });
    // The hub is connected and has published the retained desired state of both nodes.
    await waitFor(() => seen.some((l) => l.startsWith(`${topics.desired(VICTIM)} `)), { timeoutMs: 20_000, what: 'retained desired state via the inspector' });
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
    await hub?.proc.stop();
    await mosquitto?.stop();
    await tmp?.cleanup();
  });

  it('refuses anonymous clients, wrong passwords, unknown users and names with wildcards', async () => {
    expect(await refused({ clientId: 'anon-1' })).toBe(true);
    expect(await refused({ clientId: 'piha', username: 'piha' })).toBe(true);
    expect(await refused({ clientId: 'piha', username: 'piha', password: `${secrets.piha}x` })).toBe(true);
    expect(await refused({ clientId: 'piha', username: 'piha', password: secrets[VICTIM]! })).toBe(true);
    expect(await refused({ clientId: 'ghost', username: 'ghost', password: 'ghost' })).toBe(true);
    expect(await refused({ clientId: 'pi+ha', username: 'pi+ha', password: secrets.piha! })).toBe(true);
    expect(await refused({ clientId: '#', username: '#', password: secrets.piha! })).toBe(true);
  });

  it('refuses node A publishing as node B: nobody sees it and the hub stores nothing for B', async () => {
    const before = seen.length;
    const payloads = {
      events: JSON.stringify({
        id: `${VICTIM}-1`,
        node: VICTIM,
        seq: 1,
        ts: new Date().toISOString(),
        type: 'service_unhealthy',
        service: 'homeassistant',
        data: { reason: 'probe_failed' },
      }),
      status: JSON.stringify({ node: VICTIM, state: 'offline', session: 99, ts: new Date().toISOString(), version: 'x' }),
      results: JSON.stringify({
        actionId: `container-restart-${VICTIM}-homeassistant`,
        node: VICTIM,
        status: 'completed',
        startedAt: new Date().toISOString(),
        finishedAt: new Date().toISOString(),
        output: '',
      }),
    };
    await watcherSees('"control: as itself"');
    for (const [channel, payload] of Object.entries(payloads)) {
      const piha = await asNode('piha');
      await tryPublish(piha, `homelab/v1/nodes/${VICTIM}/${channel}`, payload);
    }
    expect(seen.slice(before).filter((l) => l.includes(`/nodes/${VICTIM}/`))).toEqual([]);
    expect(await readEvents(root, VICTIM)).toEqual([]);
    expect(watcher.connected).toBe(true);
  });

  it('refuses a node commanding itself or another node, and an inspector publishing anything', async () => {
    const before = seen.length;
    const cmd = (node: string) =>
      JSON.stringify({
        actionId: `container-restart-${node}-x`,
        node,
        type: 'container_restart',
        service: 'x',
        issuedAt: new Date().toISOString(),
        deadline: new Date(Date.now() + 60_000).toISOString(),
      });
    await tryPublish(await asNode('piha'), topics.commands('piha'), cmd('piha'));
    await tryPublish(await asNode('piha'), topics.commands(VICTIM), cmd(VICTIM));
    await tryPublish(await asNode('piha'), topics.desired(VICTIM), '{}');
    const ops = await connect({ clientId: 'ops', username: 'ops', password: secrets.ops! });
    await tryPublish(ops, topics.commands(VICTIM), cmd(VICTIM));
    await tryPublish(await connect({ clientId: 'ops', username: 'ops', password: secrets.ops! }), topics.results('piha'), '"inspector as piha"');
    // Sent after the refused ones: the watcher is listening, so their absence means the broker refused them.
    await watcherSees('"control: after the refused ones"');
    expect(seen.slice(before).filter((l) => /\/(commands|desired) /.test(l) || l.includes('inspector as piha'))).toEqual([]);
    expect(watcher.connected).toBe(true);
  });

  it('refuses node A subscribing to B’s commands and desired state, to every node, and to $SYS', async () => {
    // Positive control: the node's own retained desired state arrives.
    const piha = await asNode('piha');
    const got: string[] = [];
    piha.on('message', (t) => got.push(t));
    await piha.subscribeAsync(topics.desired('piha'), { qos: 1 });
    await waitFor(() => got.includes(topics.desired('piha')), { timeoutMs: 5_000, what: 'own desired state' });

    // B's desired state is retained: any subscription that matched it would deliver it at once.
    for (const filter of [topics.commands(VICTIM), topics.desired(VICTIM), topics.allNodes('desired'), 'homelab/#', '#', '$SYS/#']) {
      // The broker either refuses the subscription (SUBACK 0x80) or never delivers on it.
      await piha.subscribeAsync(filter, { qos: 1 }).catch(() => undefined);
    }
    const victim = await asNode(VICTIM);
    const victimGot: string[] = [];
    victim.on('message', (t) => victimGot.push(t));
    await victim.subscribeAsync(topics.commands(VICTIM), { qos: 1 });
    if (kind === 'embedded') {
      // A command from the hub's identity (the embedded hub itself attaches in process; on Mosquitto the
      // running hub holds the client id homelab-hub): only B's own subscription gets it.
      const hubClient = await connect({ clientId: 'homelab-hub', username: 'homelab-hub', password: secrets['homelab-hub']! });
      await hubClient.publishAsync(topics.commands(VICTIM), '{"probe":true}', { qos: 1 });
    }
    await sleep(500);
    expect(got.filter((t) => t !== topics.desired('piha'))).toEqual([]);
    if (kind === 'embedded') expect(victimGot).toEqual([topics.commands(VICTIM)]);
  });

  it('never lets another identity take over a node’s session by claiming its client id', async () => {
    const victim = await asNode(VICTIM);
    let kicked = false;
    victim.on('close', () => (kicked = true));
    // Embedded: refused (client id must equal the username). Mosquitto: the client id becomes the username.
    await connect({ clientId: VICTIM, username: 'piha', password: secrets.piha! }).catch(() => undefined);
    await connect({ clientId: VICTIM, username: 'ops', password: secrets.ops! }).catch(() => undefined);
    await sleep(300);
    expect(kicked).toBe(false);
    expect(victim.connected).toBe(true);
    expect(watcher.connected).toBe(true);
  });

  it('keeps no event or result retained: a subscriber that connects after a retained publish gets none', async () => {
    const piha = await asNode('piha');
    // Payloads the hub refuses (nothing stored): what matters is whether the broker keeps them.
    await piha.publishAsync(topics.events('piha'), '"retained event"', { qos: 1, retain: true });
    await piha.publishAsync(topics.results('piha'), '"retained result"', { qos: 1, retain: true });
    await waitFor(() => seen.some((l) => l.endsWith('"retained result"')), { timeoutMs: 5_000, what: 'the watcher sees the publishes' });
    if (kind === 'mosquitto') {
      // Mosquitto cannot refuse the flag per topic; the hub clears such messages when it subscribes.
      await hub.proc.stop();
      hub = await startHubProcess({
        root,
        hostsDir,
        name: `sec-${kind}-hub-2`,
        mqttUrl: url,
        env: { HOMELAB_MQTT_PASSWORD_FILE: path.join(tmp.path, 'homelab-hub.secret') },
      });
      for (const t of [topics.events('piha'), topics.results('piha')]) {
        await waitFor(() => seen.includes(`${t} `), { timeoutMs: 20_000, what: `the hub clears the retained message on ${t}` });
      }
    }
    const late = await connect({ clientId: 'ops', username: 'ops', password: secrets.ops! });
    const retained: string[] = [];
    late.on('message', (t, _p, packet) => {
      if (packet.retain) retained.push(t);
    });
    await late.subscribeAsync('homelab/#', { qos: 1 });
    // Positive control: what is retained by design arrives at once.
    await waitFor(() => retained.includes(topics.desired('piha')), { timeoutMs: 5_000, what: 'retained desired state for the late subscriber' });
    await sleep(300);
    expect(retained.filter((t) => t.endsWith('/events') || t.endsWith('/results'))).toEqual([]);
  });

  it('refuses path-traversal and flag-like names in `homelab nodes add` before writing anything', async () => {
    const before = await fs.readFile(path.join(root, 'state/mqtt-credentials.json'), 'utf8');
    for (const name of ['../x', '..', '%2e%2e', '-f', 'a/b', 'x'.repeat(300)]) {
      // After `--`, so a name like `-f` reaches the name check instead of the option parser.
      const res = await run(['nodes', 'add', '--root', root, '--', name], `sec-${kind}-nodes-add-bad`);
      expect(res.code, name).toBe(1);
      expect(res.out).toMatch(/not a valid name/);
    }
    expect(await fs.readFile(path.join(root, 'state/mqtt-credentials.json'), 'utf8')).toBe(before);
    await expect(fs.stat(path.join(tmp.path, 'x'))).rejects.toThrow();
  });

  it('answers traversal in action ids on the HTTP API with 400 or 404, never a file', async () => {
    for (const id of ['..%2f..%2fstate%2fmqtt-credentials', '..%2F..', '%2e%2e', '..', '-f']) {
      const get = await hub.api(`/api/actions/${id}`);
      expect([400, 404], `GET ${id}`).toContain(get.status);
      const post = await hub.api(`/api/actions/${id}/approve`, { method: 'POST', body: '{}' });
      expect([400, 404], `approve ${id}`).toContain(post.status);
    }
  });
});
