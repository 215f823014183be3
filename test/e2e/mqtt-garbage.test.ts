import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { makeTempDir, sleep, waitFor, type TempDir, prng as rng } from '@homelab/testkit';
import { healthz, startFaultHub, type FaultHub } from '../support/fault';
import { validEvent } from '../support/fuzz-payloads';
import { provisionMqtt, testSecret } from '../support/mqtt-identities';
import { writeHosts } from '../support/stack';

/**
 * docs/reliability.md, "Malformed input": 1,000 malformed MQTT packets on the embedded
 * broker's TCP port — raw garbage, packets framed right but wrong inside, before
 * and after an authenticated CONNECT, and headers announcing huge packets. The
 * hub stays up, writes nothing, and still serves a well-behaved node afterwards.
 */
const NODE = 'garbage-node';
const COUNT = 1000;

function varint(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
const str = (s: string | Buffer) => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
};
const frame = (first: number, body: Buffer) => Buffer.concat([Buffer.from([first]), varint(body.length), body]);
const connectPacket = (clientId: string, username?: string, password?: string) => {
  const flags = 0x02 | (username !== undefined ? 0x80 : 0) | (password !== undefined ? 0x40 : 0);
  const parts = [str('MQTT'), Buffer.from([4, flags, 0, 30]), str(clientId)];
  if (username !== undefined) parts.push(str(username));
  if (password !== undefined) parts.push(str(password));
  return frame(0x10, Buffer.concat(parts));
};

interface GarbageCase {
  label: string;
  /** Sent after a valid, authenticated CONNECT as NODE. */
  authenticated: boolean;
  bytes: Buffer;
}

function garbageCases(seed: number): GarbageCase[] {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const makers: Array<() => GarbageCase> = [
    () => ({ label: 'raw random bytes', authenticated: false, bytes: bytes(1 + int(2000)) }),
    () => ({ label: 'random bytes after connect', authenticated: true, bytes: bytes(1 + int(500)) }),
    () => ({ label: 'framed, random type and body, before connect', authenticated: false, bytes: frame(int(256), bytes(int(300))) }),
    () => ({ label: 'framed, random type and body, after connect', authenticated: true, bytes: frame(int(256), bytes(int(300))) }),
    () => ({
      label: 'connect with a wrong protocol name',
      authenticated: false,
      bytes: frame(0x10, Buffer.concat([str('MQTX'), Buffer.from([4, 2, 0, 30]), str('x')])),
    }),
    () => ({
      label: 'connect with protocol level 99',
      authenticated: false,
      bytes: frame(0x10, Buffer.concat([str('MQTT'), Buffer.from([99, 2, 0, 30]), str('x')])),
    }),
    () => ({
      label: 'connect claiming a username it does not carry',
      authenticated: false,
      bytes: frame(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str(NODE)])),
    }),
    () => ({
      label: 'connect with a length past the packet',
      authenticated: false,
      bytes: frame(0x10, Buffer.concat([str('MQTT'), Buffer.from([4, 2, 0, 30, 0xff, 0xff]), bytes(10)])),
    }),
    () => ({ label: 'second connect', authenticated: true, bytes: connectPacket(NODE, NODE, testSecret(NODE)) }),
    () => ({
      label: 'publish with a topic length past the packet',
      authenticated: true,
      bytes: frame(0x30, Buffer.concat([Buffer.from([0xff, 0xff]), bytes(20)])),
    }),
    () => ({
      label: 'publish with an invalid UTF-8 topic',
      authenticated: true,
      bytes: frame(0x30, Buffer.concat([str(Buffer.from([0x68, 0xc3, 0x28, 0xff])), Buffer.from('{}')])),
    }),
    () => ({
      label: 'publish with a wildcard topic',
      authenticated: true,
      bytes: frame(0x32, Buffer.concat([str(`homelab/v1/nodes/${NODE}/#`), Buffer.from([0, 1]), Buffer.from('{}')])),
    }),
    () => ({
      label: 'publish with QoS 3',
      authenticated: true,
      bytes: frame(0x36, Buffer.concat([str(topics.events(NODE)), Buffer.from([0, 1]), Buffer.from('{}')])),
    }),
    () => ({
      label: 'publish with a NUL in the topic',
      authenticated: true,
      bytes: frame(0x30, Buffer.concat([str(`homelab/v1/nodes/${NODE}\0/events`), Buffer.from('{}')])),
    }),
    () => ({
      label: 'publish of garbage on the node’s own topic',
      authenticated: true,
      bytes: frame(0x30, Buffer.concat([str(topics.events(NODE)), bytes(int(200))])),
    }),
    () => ({ label: 'subscribe with garbage filters', authenticated: true, bytes: frame(0x82, Buffer.concat([Buffer.from([0, 7]), bytes(int(100))])) }),
    () => ({ label: 'subscribe without a filter', authenticated: true, bytes: frame(0x82, Buffer.from([0, 7])) }),
    () => ({ label: 'length field of five bytes', authenticated: true, bytes: Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]) }),
    () => ({
      label: 'header announcing a 200 MB publish',
      authenticated: true,
      bytes: Buffer.concat([Buffer.from([0x30]), varint(200 * 1024 * 1024), bytes(500)]),
    }),
    () => ({
      label: 'puback/pubrel for ids never sent',
      authenticated: true,
      bytes: Buffer.concat([frame(0x40, Buffer.from([int(256), int(256)])), frame(0x62, Buffer.from([int(256), int(256)]))]),
    }),
    () => ({ label: 'reserved packet types 0 and 15', authenticated: true, bytes: Buffer.concat([frame(0x00, bytes(4)), frame(0xf0, bytes(4))]) }),
    () => ({
      label: 'publish before connect',
      authenticated: false,
      bytes: frame(0x30, Buffer.concat([str(topics.events(NODE)), Buffer.from(JSON.stringify(validEvent(NODE, 1)))])),
    }),
  ];
  return Array.from({ length: COUNT }, (_, i) => makers[i % makers.length]!());
}

/** Sends one case on its own connection; resolves when the broker closed it or after a short wait. */
async function sendCase(port: number, c: GarbageCase): Promise<void> {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  sock.resume(); // read (and drop) whatever the broker answers
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  if (c.authenticated) {
    sock.write(connectPacket(NODE, NODE, testSecret(NODE)));
    await sleep(5);
  }
  sock.write(c.bytes);
  await Promise.race([closed, sleep(150)]);
  sock.destroy();
}

/** Every file under events/, world/ and actions/ with its content. */
async function snapshot(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else out[path.relative(root, p)] = await fs.readFile(p, 'utf8');
    }
  };
  for (const d of ['events', 'world', 'actions']) await walk(path.join(root, d));
  return out;
}

describe('1,000 malformed MQTT packets on the embedded broker', () => {
  let tmp: TempDir;
  let root: string;
  let hub: FaultHub;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-e2e-garbage-');
    root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { [NODE]: `node: ${NODE}\nservices:\n  fuzz-svc: {}\n` });
    await provisionMqtt(root, [NODE]);
    hub = await startFaultHub({ root, hostsDir, name: 'mqtt-garbage-hub' });
  });

  afterAll(async () => {
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  it('keeps the hub up, writes nothing, and still serves a well-behaved node afterwards', async () => {
    const port = Number(new URL(hub.mqttUrl).port);
    await sleep(1_500); // let the first observer and supervisor passes settle
    const before = await snapshot(root);
    const countersBefore = (await healthz(hub.httpUrl)).ingest;
    const cases = garbageCases(8);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < cases.length) await sendCase(port, cases[next++]!);
      }),
    );
    expect(hub.proc.running).toBe(true);
    const health = await healthz(hub.httpUrl);
    expect(health.ok).toBe(true);
    // The oversize headers were cut at the packet guard, and the garbage reached the broker at all.
    const broker = (health as unknown as { broker: { packetTooLarge: number; connectRefused: number } }).broker;
    expect(broker.packetTooLarge).toBeGreaterThanOrEqual(cases.filter((c) => c.label.startsWith('header announcing')).length);
    console.log(`garbage: ${cases.length} cases; broker counters ${JSON.stringify(broker)}`);
    await sleep(2_500); // two observer passes
    const after = await snapshot(root);
    expect(Object.keys(after).sort()).toEqual(Object.keys(before).sort());
    for (const k of Object.keys(before)) expect(after[k] === before[k], `${k} unchanged`).toBe(true);
    expect(health.ingest.accepted - countersBefore.accepted).toBe(0);
    // Nothing was left connected by the garbage.
    await waitFor(async () => (await healthz(hub.httpUrl)).brokerClients === 0, { timeoutMs: 10_000, what: 'no client left connected' });

    // And the broker still works for a node with its credentials.
    const client = await mqtt.connectAsync(hub.mqttUrl, { clientId: NODE, username: NODE, password: testSecret(NODE), reconnectPeriod: 0 });
    await client.publishAsync(topics.events(NODE), JSON.stringify(validEvent(NODE, 1)), { qos: 1 });
    await waitFor(async () => (await healthz(hub.httpUrl)).ingest.accepted > countersBefore.accepted, {
      timeoutMs: 10_000,
      what: 'a valid event stored after the garbage',
    });
    await client.endAsync();
  });
});
