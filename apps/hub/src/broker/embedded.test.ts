import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { createHubLink, HUB_SUBSCRIPTIONS, type HubLink } from '../mqtt/hub-link';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded';
import { memoryCredentials } from './test-credentials';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => silent } as unknown as Logger;

let broker: EmbeddedBroker | undefined;
let link: HubLink | undefined;
const clients: MqttClient[] = [];
const credentials = memoryCredentials({ piha: { role: 'node', secret: 'secret-piha' } });

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await link?.close();
  await broker?.close();
  link = undefined;
  broker = undefined;
});

async function node(name: string): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker!.url, { clientId: name, username: name, password: `secret-${name}`, reconnectPeriod: 0 });
  clients.push(c);
  return c;
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe('embedded broker, hub link in process', () => {
  it('delivers what agents publish, retained status included, and carries the hub’s publications to them', async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, log: silent, credentials });
    const piha = await node('piha');
    // Published before the hub attaches: a network subscription would get it as retained, so must the link.
    await piha.publishAsync(topics.status('piha'), JSON.stringify({ node: 'piha', state: 'online', session: 1 }), { qos: 1, retain: true });

    const got: { topic: string; payload: string }[] = [];
    link = createHubLink({ url: broker.url, log: silent, embedded: broker, onMessage: (topic, payload) => got.push({ topic, payload: payload.toString() }) });
    await link.waitConnected();
    expect(link.connected()).toBe(true);
    expect(got).toEqual([{ topic: topics.status('piha'), payload: JSON.stringify({ node: 'piha', state: 'online', session: 1 }) }]);

    await piha.publishAsync(topics.events('piha'), '{"seq":1}', { qos: 1 });
    await until(() => got.length === 2, 'the event');
    expect(got[1]).toEqual({ topic: topics.events('piha'), payload: '{"seq":1}' });

    const acks: string[] = [];
    piha.on('message', (_t, p) => acks.push(p.toString()));
    await piha.subscribeAsync(topics.acks('piha'), { qos: 1 });
    await link.publish(topics.acks('piha'), { node: 'piha', upToSeq: 1 }, { qos: 1 });
    await until(() => acks.length === 1, 'the ack');
    expect(JSON.parse(acks[0]!)).toEqual({ node: 'piha', upToSeq: 1 });
    // The hub itself is no MQTT client of its own broker.
    expect(broker.connectedClients()).toBe(1);
    expect(HUB_SUBSCRIPTIONS).toContain(topics.allNodes('events'));

    await link.close();
    expect(link.connected()).toBe(false);
    await piha.publishAsync(topics.events('piha'), '{"seq":2}', { qos: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(got).toHaveLength(2);
    await expect(link.publish(topics.acks('piha'), {})).rejects.toThrow(/closed/);
  });

  it('keeps refusing a node’s publications on another node’s topics, also after allowed ones', async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, log: silent, credentials });
    const got: string[] = [];
    link = createHubLink({ url: broker.url, log: silent, embedded: broker, onMessage: (topic) => got.push(topic) });
    await link.waitConnected();
    const piha = await node('piha');
    await piha.publishAsync(topics.events('piha'), '{}', { qos: 1 });
    await piha.publishAsync(topics.events('piha'), '{}', { qos: 1 });
    // MQTT 3.1.1 has no negative PUBACK: aedes drops the message (and may close the client).
    await piha.publishAsync(topics.events('chelsty-ha'), '{}', { qos: 0 }).catch(() => undefined);
    await piha.publishAsync(topics.events('piha'), 'x'.repeat(2000), { qos: 0 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toEqual([topics.events('piha'), topics.events('piha')]);
  });
});
