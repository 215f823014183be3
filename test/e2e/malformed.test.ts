import fs from 'node:fs/promises';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { makeTempDir, sleep, startMosquitto, waitFor, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import {
  healthz,
  readWorldBytes,
  rssBytes,
  startFaultHub,
  startLoadAgent,
  waitOfflineLogged,
  waitWorldFolded,
  type FaultHub,
  type IngestCounters,
} from '../support/fault';
import {
  brokerRefusedCases,
  ingestCases,
  invalidUtf8InStringCases,
  unknownTopicCases,
  validEvent,
  type FuzzCase,
  type IngestReason,
  type Outcome,
} from '../support/fuzz-payloads';
import { provisionMqtt, testSecret } from '../support/mqtt-identities';
import { ARTIFACTS, writeHosts } from '../support/stack';

/**
 * docs/reliability.md, "Malformed input" and "Spoofing": 10,000 malformed, oversized and
 * wrong-topic payloads against the real hub. The hub keeps running; each
 * message that reaches ingest is rejected with a counted reason (GET /healthz),
 * each one the embedded broker refuses first (payload limit, ACL) shows as a
 * refusal in the hub log; nothing is stored and the world files stay
 * byte-identical. A subset goes through Mosquitto (no ACLs there, so the hub's
 * own checks are all that stands).
 */
const NODE = 'fuzz-node';
const OTHER = 'other-node';
const REASONS: IngestReason[] = ['unknown_topic', 'too_large', 'not_json', 'invalid_schema', 'node_mismatch'];
const MAX_PAYLOAD = 256 * 1024;

function connect(url: string, clientId: string): Promise<MqttClient> {
  const client = mqtt.connect(url, { clientId, username: clientId, password: testSecret(clientId), reconnectPeriod: 0, connectTimeout: 10_000 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

/** Publishes QoS 1 with at most `window` awaiting PUBACK. */
async function publishAll(client: MqttClient, cases: FuzzCase[], window = 200): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const c = cases[next++]!;
      await client.publishAsync(c.topic, c.payload, { qos: 1 });
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}

const countBy = (cases: Array<{ expect: Outcome }>) => {
  const out: Record<string, number> = {};
  for (const c of cases) out[c.expect] = (out[c.expect] ?? 0) + 1;
  return out;
};

const delta = (after: IngestCounters, before: IngestCounters) => ({
  accepted: after.accepted - before.accepted,
  duplicates: after.duplicates - before.duplicates,
  statuses: after.statuses - before.statuses,
  results: after.results - before.results,
  rejected: Object.fromEntries(Object.keys(after.rejected).map((k) => [k, after.rejected[k]! - (before.rejected[k] ?? 0)])),
});
const rejectedTotal = (d: ReturnType<typeof delta>) => Object.values(d.rejected).reduce((a, b) => a + b, 0);

/** Everything a data root holds that must not change: world files and the event log. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const world = await readWorldBytes(root);
  out['world/services.json'] = world.services;
  out['world/nodes.json'] = world.nodes;
  for (const day of await fs.readdir(path.join(root, 'events'))) {
    const dir = path.join(root, 'events', day);
    if (!(await fs.stat(dir)).isDirectory()) continue;
    for (const f of await fs.readdir(dir)) out[`events/${day}/${f}`] = await fs.readFile(path.join(dir, f), 'utf8');
  }
  return out;
}

/** Seeds a world (a real agent's events plus its offline status) so "untouched" means something. */
async function seed(tmp: string, hub: FaultHub, root: string, name: string): Promise<void> {
  const agent = await startLoadAgent({
    node: 'seed-node',
    mqttUrl: hub.mqttUrl,
    stateDir: path.join(tmp, 'agent-seed'),
    events: 200,
    services: 10,
    name,
    hubRoot: root,
  });
  await agent.waitForOutput(/^acked \d+$/m, 60_000);
  await agent.stop();
  await waitOfflineLogged(root, ['seed-node']);
  await waitWorldFolded(root);
}

/** Observer runs every second: let two runs pass before comparing "nothing changed". */
const OBSERVER_SETTLE_MS = 2_500;

describe('10,000 malformed, oversized and wrong-topic payloads on the embedded broker', () => {
  let tmp: TempDir;
  let root: string;
  let hub: FaultHub;
  const hubName = 'malformed-embedded-hub';

  beforeAll(async () => {
    tmp = await makeTempDir('hl-fuzz-');
    root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n' });
    hub = await startFaultHub({ root, hostsDir, name: hubName });
    // Every client below has its own MQTT identity: the broker's refusals under test are ACL and size, not login.
    await provisionMqtt(root, [NODE, ...brokerRefusedCases((k) => `fuzz-r-${k}`, 'piha', MAX_PAYLOAD).map((c) => c.node)]);
    await seed(tmp.path, hub, root, 'malformed-embedded-seed');
  });

  afterAll(async () => {
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  it('rejects each with a counted reason or refuses it in the broker; the hub runs on and the world is untouched', async () => {
    const before = await snapshot(root);
    const countersBefore = (await healthz(hub.httpUrl)).ingest;
    const rssBefore = await rssBytes(hub.proc.pid);

    // Refused by the broker before ingest: each on its own connection, since aedes drops the sender.
    const refused = brokerRefusedCases((k) => `fuzz-r-${k}`, 'piha', MAX_PAYLOAD);
    const toIngest = ingestCases(NODE, OTHER, 10_000 - refused.length, 42);
    expect(toIngest.length + refused.length).toBe(10_000);

    const started = Date.now();
    const client = await connect(hub.mqttUrl, NODE);
    let kicked = false;
    client.on('close', () => (kicked = true));
    await publishAll(client, toIngest);

    const disconnected: string[] = [];
    let nextRefused = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (nextRefused < refused.length) {
          const c = refused[nextRefused++]!;
          const rc = await connect(hub.mqttUrl, c.node);
          const closed = new Promise<void>((resolve) => rc.once('close', () => resolve()));
          rc.publish(c.topic, c.payload, { qos: 0 });
          const gone = await Promise.race([closed.then(() => true), sleep(10_000).then(() => false)]);
          if (gone) disconnected.push(c.node);
          rc.end(true);
        }
      }),
    );
    // The well-behaved connection of the same node was never taken over.
    expect(kicked).toBe(false);
    client.end();

    const want = countBy(toIngest);
    const d = await waitFor(
      async () => {
        const now = delta((await healthz(hub.httpUrl)).ingest, countersBefore);
        return rejectedTotal(now) >= toIngest.length ? now : null;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `${toIngest.length} rejections counted` },
    );
    const elapsed = Date.now() - started;
    console.log(`sent ${toIngest.length} to ingest and ${refused.length} refused by the broker in ${elapsed} ms; counted ${JSON.stringify(d)}`);

    // Every message that reached ingest: exactly one counted reason each; nothing accepted.
    for (const r of REASONS) expect(d.rejected[r] ?? 0, r).toBe(want[r] ?? 0);
    expect(d.rejected.write_failed).toBe(0);
    expect(rejectedTotal(d)).toBe(toIngest.length);
    expect({ accepted: d.accepted, duplicates: d.duplicates, statuses: d.statuses, results: d.results }).toEqual({
      accepted: 0,
      duplicates: 0,
      statuses: 0,
      results: 0,
    });

    // Every refusal: the sender was disconnected and the hub log names it.
    expect(disconnected.length).toBe(refused.length);
    const logLines = (await fs.readFile(path.join(ARTIFACTS, `${hubName}.log`), 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    const refusals = (msg: string) => logLines.filter((l) => l.msg === msg && String(l.clientId).startsWith('fuzz-r-')).length;
    const wantRefused = countBy(refused);
    expect(refusals('publish refused by ACL')).toBe(wantRefused.refused_acl);
    expect(refusals('publish refused: payload too large')).toBe(wantRefused.refused_size);
    expect(logLines.filter((l) => l.msg === 'inbound message rejected').length).toBeGreaterThanOrEqual(toIngest.length);

    // The hub runs on, answers, and changed nothing on disk.
    expect(hub.proc.running).toBe(true);
    expect((await healthz(hub.httpUrl)).ok).toBe(true);
    await sleep(OBSERVER_SETTLE_MS);
    const after = await snapshot(root);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const k of Object.keys(before)) expect(after[k] === before[k], `${k} unchanged`).toBe(true);

    // Memory: a generous bound for the first round (10,000 parses, some 200 KB deep, 4 MiB packets:
    // the heap grows to its working size), then a second round of the same must stay about flat.
    const rssAfter = await rssBytes(hub.proc.pid);
    expect(rssAfter - rssBefore).toBeLessThan(200 * 2 ** 20);
    const again = await connect(hub.mqttUrl, NODE);
    await publishAll(again, toIngest);
    again.end();
    await waitFor(async () => rejectedTotal(delta((await healthz(hub.httpUrl)).ingest, countersBefore)) >= 2 * toIngest.length, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'second round counted',
    });
    const rssAgain = await rssBytes(hub.proc.pid);
    console.log(
      `hub RSS ${Math.round(rssBefore / 2 ** 20)} MiB before, ${Math.round(rssAfter / 2 ** 20)} MiB after round 1, ${Math.round(rssAgain / 2 ** 20)} MiB after round 2`,
    );
    expect(rssAgain - rssAfter).toBeLessThan(96 * 2 ** 20);
    expect(delta((await healthz(hub.httpUrl)).ingest, countersBefore).accepted).toBe(0);
  });

  it('rejects otherwise valid events whose strings are not UTF-8, instead of storing them altered', async () => {
    const before = await snapshot(root);
    const countersBefore = (await healthz(hub.httpUrl)).ingest;
    const cases = invalidUtf8InStringCases(NODE, 50);
    const client = await connect(hub.mqttUrl, NODE);
    await publishAll(client, cases, 10);
    client.end();
    const d = await waitFor(
      async () => {
        const now = delta((await healthz(hub.httpUrl)).ingest, countersBefore);
        return rejectedTotal(now) + now.accepted >= cases.length ? now : null;
      },
      { timeoutMs: 30_000, what: `${cases.length} invalid-UTF-8 events handled` },
    );
    expect(d.accepted, `stored altered: ${JSON.stringify(d)}`).toBe(0);
    expect(rejectedTotal(d)).toBe(cases.length);
    await sleep(OBSERVER_SETTLE_MS);
    expect(await snapshot(root)).toEqual(before);
  });
});

describe('malformed payloads through Mosquitto (hub --mqtt-url, no broker ACL)', () => {
  let tmp: TempDir;
  let mosquitto: MosquittoHandle;
  let root: string;
  let hub: FaultHub;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-fuzz-mq-');
    root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices:\n  zigbee2mqtt: {}\n' });
    mosquitto = await startMosquitto();
    hub = await startFaultHub({ root, hostsDir, name: 'malformed-mosquitto-hub', mqttUrl: mosquitto.url });
    await seed(tmp.path, hub, root, 'malformed-mosquitto-seed');
  });

  afterAll(async () => {
    await hub?.proc.stop();
    await mosquitto?.stop();
    await tmp?.cleanup();
  });

  it('counts oversize, unknown-topic, spoofed-topic and malformed payloads; the world is untouched', async () => {
    const before = await snapshot(root);
    const countersBefore = (await healthz(hub.httpUrl)).ingest;
    const oversize: FuzzCase[] = [MAX_PAYLOAD + 1, 300 * 1024, 1024 * 1024, 2 * 1024 * 1024].flatMap((size) =>
      Array.from({ length: 3 }, () => ({
        label: `oversize ${size}`,
        topic: `homelab/v1/nodes/${NODE}/events`,
        payload: Buffer.alloc(size, 0x7b),
        expect: 'too_large' as const,
      })),
    );
    // Without broker ACLs a node can publish on another node's topics: a payload naming the publisher
    // on another node's topic is refused by the hub's own check (payload node = topic node).
    const spoofed: FuzzCase[] = [
      ...Array.from({ length: 80 }, (_, i) => ({
        label: 'own event on another node’s topic',
        topic: topics.events(OTHER),
        payload: Buffer.from(JSON.stringify(validEvent(NODE, 3_000_000 + i))),
        expect: 'node_mismatch' as const,
      })),
      ...Array.from({ length: 10 }, (_, i) => ({
        label: 'own status on another node’s topic',
        topic: topics.status(OTHER),
        payload: Buffer.from(JSON.stringify({ node: NODE, state: 'offline', session: i })),
        expect: 'node_mismatch' as const,
      })),
      ...Array.from({ length: 10 }, () => ({
        label: 'own result on another node’s topic',
        topic: topics.results(OTHER),
        payload: Buffer.from(
          JSON.stringify({
            actionId: 'container-restart-a-b',
            node: NODE,
            status: 'completed',
            startedAt: '2026-01-02T03:04:05.000Z',
            finishedAt: '2026-01-02T03:04:05.000Z',
            output: '',
          }),
        ),
        expect: 'node_mismatch' as const,
      })),
    ];
    const cases = [...oversize, ...unknownTopicCases(100), ...spoofed, ...ingestCases(NODE, OTHER, 1_000, 9)];

    const client = await connect(mosquitto.url, NODE);
    // Paced: Mosquitto queues at most max_queued_messages (1000) per subscriber and drops the rest.
    let sent = 0;
    for (let i = 0; i < cases.length; i += 200) {
      const batch = cases.slice(i, i + 200);
      await publishAll(client, batch, 50);
      sent += batch.length;
      await waitFor(async () => rejectedTotal(delta((await healthz(hub.httpUrl)).ingest, countersBefore)) >= sent, {
        timeoutMs: 30_000,
        what: `${sent} rejections counted`,
      });
    }
    client.end();
    const d = delta((await healthz(hub.httpUrl)).ingest, countersBefore);
    console.log(`mosquitto: sent ${cases.length}; counted ${JSON.stringify(d)}`);
    const want = countBy(cases);
    for (const r of REASONS) expect(d.rejected[r] ?? 0, r).toBe(want[r] ?? 0);
    expect(rejectedTotal(d)).toBe(cases.length);
    expect({ accepted: d.accepted, statuses: d.statuses, results: d.results }).toEqual({ accepted: 0, statuses: 0, results: 0 });
    expect(hub.proc.running).toBe(true);
    await sleep(OBSERVER_SETTLE_MS);
    const after = await snapshot(root);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const k of Object.keys(before)) expect(after[k] === before[k], `${k} unchanged`).toBe(true);
  });
});
