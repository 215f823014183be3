import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { topics } from '@homelab/contracts';
import { selfSignedCert } from '@homelab/testkit';
import type { Logger } from '@homelab/logging';
import { startEmbeddedBroker, type EmbeddedBroker, type EmbeddedBrokerOptions } from './embedded';
import { memoryCredentials } from './test-credentials';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => silent } as unknown as Logger;
const credentials = memoryCredentials({
  piha: { role: 'node', secret: 'secret-piha' },
  'chelsty-ha': { role: 'node', secret: 'secret-chelsty-ha' },
  'homelab-hub': { role: 'hub', secret: 'secret-hub' },
  ops: { role: 'inspector', secret: 'secret-ops' },
});

let broker: EmbeddedBroker | undefined;
const clients: MqttClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await broker?.close();
  broker = undefined;
});

async function start(extra: Partial<EmbeddedBrokerOptions> = {}): Promise<EmbeddedBroker> {
  broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes: 4096, log: silent, credentials, ...extra });
  return broker;
}

async function connect(opts: IClientOptions, url = broker!.url): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5_000, ...opts });
  clients.push(c);
  return c;
}
const asNode = (name: string, password = `secret-${name}`) => connect({ clientId: name, username: name, password });
/** The CONNACK return code a refused connection got. */
const refusal = (opts: IClientOptions) =>
  connect(opts).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything published under homelab/, as the hub would see it. */
async function watch(b: EmbeddedBroker): Promise<string[]> {
  const got: string[] = [];
  await b.attach(['homelab/#'], (topic, payload) => got.push(`${topic} ${payload.toString()}`));
  return got;
}

describe('embedded broker: who may connect', () => {
  it('refuses anonymous clients by default', async () => {
    await start();
    expect(await refusal({ clientId: 'piha' })).toBe(5);
    expect(await refusal({ clientId: 'piha', username: 'piha' })).toBe(4);
    expect(broker!.counters().connectRefused).toBe(2);
  });

  it('refuses a wrong password and an unknown user', async () => {
    await start();
    expect(await refusal({ clientId: 'piha', username: 'piha', password: 'secret-chelsty-ha' })).toBe(4);
    expect(await refusal({ clientId: 'ghost', username: 'ghost', password: 'x' })).toBe(4);
  });

  it('refuses a node that connects with another node’s client id, and never takes over that node’s session', async () => {
    await start();
    const piha = await asNode('piha');
    let kicked = false;
    piha.on('close', () => (kicked = true));
    expect(await refusal({ clientId: 'piha', username: 'chelsty-ha', password: 'secret-chelsty-ha' })).toBe(2);
    expect(await refusal({ clientId: 'piha', username: 'ops', password: 'secret-ops' })).toBe(2);
    expect(await refusal({ clientId: 'homelab-hub', username: 'ops', password: 'secret-ops' })).toBe(2);
    await sleep(50);
    expect(kicked).toBe(false);
    expect(piha.connected).toBe(true);
  });

  it('admits anonymous clients only with allowAnonymous, as claimed identities', async () => {
    await start({ allowAnonymous: true });
    const got = await watch(broker!);
    const devbox = await connect({ clientId: 'devbox', username: 'devbox' });
    await devbox.publishAsync(topics.events('devbox'), '{}', { qos: 1 });
    // A known user still needs its secret, and a claimed identity stays within its own topics.
    expect(await refusal({ clientId: 'piha', username: 'piha' })).toBe(4);
    expect(await refusal({ clientId: 'chelsty-ha', username: 'chelsty-ha', password: 'wrong' })).toBe(4);
    expect(got).toEqual([`${topics.events('devbox')} {}`]);
  });
});

describe('embedded broker: revoking an identity', () => {
  it('disconnects a node whose identity is removed and one whose secret is rotated, and refuses the old secret', async () => {
    const creds = memoryCredentials({
      piha: { role: 'node', secret: 'old-piha' },
      'chelsty-ha': { role: 'node', secret: 'old-ch' },
      ops: { role: 'inspector', secret: 'ops' },
    });
    await start({ credentials: creds, revokeCheckMs: 20 });
    const piha = await connect({ clientId: 'piha', username: 'piha', password: 'old-piha' });
    const chelsty = await connect({ clientId: 'chelsty-ha', username: 'chelsty-ha', password: 'old-ch' });
    const ops = await connect({ clientId: 'ops-1', username: 'ops', password: 'ops' });
    const gone = (c: MqttClient) => new Promise<void>((resolve) => c.once('close', () => resolve()));
    const closed = Promise.all([gone(piha), gone(chelsty)]);
    creds.remove('piha');
    creds.set('chelsty-ha', { role: 'node', secret: 'new-ch' });
    await closed;
    expect(ops.connected).toBe(true);
    expect(await refusal({ clientId: 'chelsty-ha', username: 'chelsty-ha', password: 'old-ch' })).toBe(4);
    expect(await refusal({ clientId: 'chelsty-ha', username: 'chelsty-ha', password: 'new-ch' })).toBe(0);
  });
});

describe('embedded broker: what each identity may do', () => {
  it('refuses node A publishing as node B, and A publishing commands or desired state to itself', async () => {
    await start();
    const got = await watch(broker!);
    for (const topic of [
      topics.events('chelsty-ha'),
      topics.status('chelsty-ha'),
      topics.results('chelsty-ha'),
      topics.commands('piha'),
      topics.desired('piha'),
    ]) {
      const piha = await asNode('piha');
      const closed = new Promise<void>((resolve) => piha.once('close', () => resolve()));
      piha.publish(topic, '{}', { qos: 1 });
      await closed; // MQTT 3.1.1 has no negative PUBACK: aedes drops the sender
    }
    expect(got).toEqual([]);
    expect(broker!.counters().publishRefusedAcl).toBe(5);
  });

  it('refuses node A subscribing to B’s commands, to + and #, and to $SYS', async () => {
    await start();
    const piha = await asNode('piha');
    const grantedQos = (filter: string) =>
      piha.subscribeAsync(filter, { qos: 1 }).then(
        (g) => g[0]!.qos,
        () => 128,
      );
    const filters = [topics.commands('chelsty-ha'), topics.desired('chelsty-ha'), topics.allNodes('commands'), '#', '$SYS/#', topics.commands('piha')];
    const granted = [];
    for (const f of filters) granted.push(await grantedQos(f));
    expect(granted).toEqual([128, 128, 128, 128, 128, 1]);
  });

  it('delivers commands only from the hub: the hub identity publishes, the node receives its own', async () => {
    await start();
    const piha = await asNode('piha');
    const chelsty = await asNode('chelsty-ha');
    const received: string[] = [];
    piha.on('message', (t) => received.push(`piha ${t}`));
    chelsty.on('message', (t) => received.push(`chelsty-ha ${t}`));
    await piha.subscribeAsync(topics.commands('piha'), { qos: 1 });
    await chelsty.subscribeAsync(topics.commands('chelsty-ha'), { qos: 1 });
    const hub = await connect({ clientId: 'homelab-hub', username: 'homelab-hub', password: 'secret-hub' });
    await hub.publishAsync(topics.commands('piha'), '{}', { qos: 1 });
    // Another node trying to command piha is dropped.
    chelsty.publish(topics.commands('piha'), '{}', { qos: 1 });
    await sleep(100);
    expect(received).toEqual([`piha ${topics.commands('piha')}`]);
  });

  it('lets an inspector read homelab/# and publish nothing', async () => {
    await start();
    const ops = await connect({ clientId: 'mosquitto_sub-1', username: 'ops', password: 'secret-ops' });
    const got: string[] = [];
    ops.on('message', (t) => got.push(t));
    const granted = await ops.subscribeAsync('homelab/#', { qos: 1 });
    expect(granted[0]!.qos).toBe(1);
    const piha = await asNode('piha');
    await piha.publishAsync(topics.events('piha'), '{}', { qos: 1 });
    const closed = new Promise<void>((resolve) => ops.once('close', () => resolve()));
    ops.publish(topics.commands('piha'), '{}', { qos: 1 });
    await closed;
    expect(got).toEqual([topics.events('piha')]);
  });
});

describe('embedded broker: limits', () => {
  it('slows a node down beyond its rate, delivering everything, and counts it', async () => {
    await start({ rateLimit: { perSec: 100, burst: 20 } });
    const got = await watch(broker!);
    const piha = await asNode('piha');
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 40 }, (_, i) => piha.publishAsync(topics.events('piha'), `{"i":${i}}`, { qos: 1 })));
    // 20 from the burst, then 20 at 100/s: at least ~200 ms.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(180);
    for (let i = 0; i < 100 && got.length < 40; i++) await sleep(10); // aedes acks before it delivers
    expect(got).toHaveLength(40);
    expect(piha.connected).toBe(true);
    expect(broker!.counters().rateLimited).toBe(20);
  });

  it('cuts a node off that runs more than a burst ahead of its rate', async () => {
    await start({ rateLimit: { perSec: 1, burst: 3 } });
    const got = await watch(broker!);
    const piha = await asNode('piha');
    const closed = new Promise<void>((resolve) => piha.once('close', () => resolve()));
    for (let i = 0; i < 20; i++) piha.publish(topics.events('piha'), `{"i":${i}}`, { qos: 0 });
    await closed;
    // 3 from the burst pass at once; 3 more wait for tokens (and are dropped with the connection).
    expect(got.length).toBeLessThanOrEqual(6);
    expect(got.length).toBeGreaterThanOrEqual(3);
  });

  it('drops a connection as soon as an oversize packet’s header arrives, before its body', async () => {
    await start();
    const got = await watch(broker!);
    await asNode('piha'); // authenticate on MQTT.js, then send the raw oversize PUBLISH on a socket of its own
    const sock = net.connect(broker!.port, '127.0.0.1');
    sock.resume(); // read (and drop) the CONNACK, or 'close' never comes
    await new Promise((r) => sock.once('connect', r));
    const connect = mqttConnect('chelsty-ha', 'chelsty-ha', 'secret-chelsty-ha');
    sock.write(connect);
    await sleep(50);
    // PUBLISH header declaring 100 MB; only the header and a little of the body are ever sent.
    const remaining = 100 * 1024 * 1024;
    const header = Buffer.from([0x30, ...varint(remaining)]);
    const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
    sock.write(Buffer.concat([header, Buffer.alloc(1000, 0x61)]));
    await closed;
    expect(broker!.counters().packetTooLarge).toBe(1);
    expect(got).toEqual([]);
  });

  it('refuses a payload above the limit that fits in the packet allowance', async () => {
    await start();
    const piha = await asNode('piha');
    const closed = new Promise<void>((resolve) => piha.once('close', () => resolve()));
    piha.publish(topics.events('piha'), 'x'.repeat(4097), { qos: 0 });
    await closed;
    expect(broker!.counters().payloadTooLarge).toBe(1);
  });
});

describe('embedded broker: TLS listener', () => {
  it('speaks MQTT over TLS with a certificate and key from files, with the same credentials', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-tls-'));
    try {
      const { cert, key } = selfSignedCert(dir);
      await start({ tls: { host: '127.0.0.1', port: 0, certFile: cert, keyFile: key } });
      expect(broker!.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
      const got = await watch(broker!);
      const ca = fs.readFileSync(cert);
      const piha = await connect({ clientId: 'piha', username: 'piha', password: 'secret-piha', ca }, broker!.tlsUrl);
      await piha.publishAsync(topics.events('piha'), '{}', { qos: 1 });
      expect(got).toEqual([`${topics.events('piha')} {}`]);
      // Without trusting the certificate the client refuses the broker; without the secret the broker refuses the client.
      await expect(mqtt.connectAsync(broker!.tlsUrl!, { clientId: 'x', reconnectPeriod: 0, connectTimeout: 3_000 })).rejects.toThrow();
      const wrong = await connect({ clientId: 'piha', username: 'piha', password: 'nope', ca }, broker!.tlsUrl).then(
        () => 0,
        (err: { code?: number }) => err.code,
      );
      expect(wrong).toBe(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** A CONNECT packet (MQTT 3.1.1, clean session, username and password). */
function mqttConnect(clientId: string, username: string, password: string): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s);
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
  };
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 30]), str(clientId), str(username), str(password)]);
  return Buffer.concat([Buffer.from([0x10, ...varint(body.length)]), body]);
}

describe('embedded broker: retained messages', () => {
  it('keeps no event or result retained for a later subscriber, but keeps the status', async () => {
    await start();
    const piha = await asNode('piha');
    await piha.publishAsync(topics.events('piha'), '"event"', { qos: 1, retain: true });
    await piha.publishAsync(topics.results('piha'), '"result"', { qos: 1, retain: true });
    await piha.publishAsync(topics.status('piha'), '"status"', { qos: 1, retain: true });
    const late = await connect({ clientId: 'ops', username: 'ops', password: 'secret-ops' });
    const retained: string[] = [];
    late.on('message', (topic, _payload, packet) => {
      if (packet.retain) retained.push(topic);
    });
    await late.subscribeAsync('homelab/#', { qos: 1 });
    for (let i = 0; i < 100 && !retained.includes(topics.status('piha')); i++) await sleep(20);
    await sleep(100);
    expect(retained).toEqual([topics.status('piha')]);
  });
});
