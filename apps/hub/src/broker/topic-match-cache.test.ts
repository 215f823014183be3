import { afterEach, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { createHubLink, type HubLink } from '../mqtt/hub-link';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded';
import { memoryCredentials } from './test-credentials';

const silent = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, child: () => silent } as unknown as Logger;
const credentials = memoryCredentials({ piha: { role: 'node', secret: 'secret-piha' } });

let broker: EmbeddedBroker | undefined;
let link: HubLink | undefined;
const clients: MqttClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await link?.close();
  await broker?.close();
  link = undefined;
  broker = undefined;
});

async function piha(clean: boolean): Promise<MqttClient> {
  const c = await mqtt.connectAsync(broker!.url, { clientId: 'piha', username: 'piha', password: 'secret-piha', reconnectPeriod: 0, clean });
  clients.push(c);
  return c;
}

const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe('embedded broker, topic matches remembered per topic', () => {
  it('queues for a persistent session subscribed after the topic was last published to', async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, log: silent, credentials });
    link = createHubLink({ url: broker.url, log: silent, embedded: broker, onMessage: () => undefined });
    await link.waitConnected();
    // Nobody subscribes to the topic yet: that answer is what a stale cache would keep.
    await link.publish(topics.commands('piha'), { n: 1 }, { qos: 1 });
    const first = await piha(false);
    await first.subscribeAsync(topics.commands('piha'), { qos: 1 });
    await first.endAsync();
    await link.publish(topics.commands('piha'), { n: 2 }, { qos: 1 });
    const got: string[] = [];
    const again = await mqtt.connectAsync(broker.url, {
      clientId: 'piha',
      username: 'piha',
      password: 'secret-piha',
      reconnectPeriod: 0,
      clean: false,
      manualConnect: false,
    });
    clients.push(again);
    again.on('message', (_t, p) => got.push(p.toString()));
    await until(() => got.length === 1, 'the command queued while piha was away');
    expect(JSON.parse(got[0]!)).toEqual({ n: 2 });
  });

  it('delivers to a subscription made after the topic was published to, and not to one removed since', async () => {
    broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, maxPayloadBytes: 1024, log: silent, credentials });
    const node = await piha(true);
    await node.publishAsync(topics.events('piha'), '{"seq":1}', { qos: 1 });
    const hub: string[] = [];
    link = createHubLink({ url: broker.url, log: silent, embedded: broker, onMessage: (_t, p) => hub.push(p.toString()) });
    await link.waitConnected();
    // A second subscriber on the exact topic: two filters match it now.
    const other: string[] = [];
    const second = await broker.attach([topics.events('piha')], (_t, p) => other.push(p.toString()));
    await node.publishAsync(topics.events('piha'), '{"seq":2}', { qos: 1 });
    await until(() => hub.length === 1 && other.length === 1, 'the event at both');
    await second.detach();
    await node.publishAsync(topics.events('piha'), '{"seq":3}', { qos: 1 });
    await until(() => hub.length === 2, 'the next event');
    expect(hub).toEqual(['{"seq":2}', '{"seq":3}']);
    expect(other).toEqual(['{"seq":2}']);
  });
});
