import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '@homelab/logging';
import { topics } from '@homelab/contracts';
import { HUB_CLIENT_ID } from '../broker/acl';

export interface PublishOptions {
  qos?: 0 | 1;
  retain?: boolean;
}

/** The hub's one MQTT connection, to the embedded broker or an external one. */
export interface HubLink {
  publish(topic: string, payload: unknown, opts?: PublishOptions): Promise<void>;
  connected(): boolean;
  /** Resolves on the first successful connection; rejects after `timeoutMs`. */
  waitConnected(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HubLinkOptions {
  url: string;
  username?: string;
  password?: string;
  log: Logger;
  /** Registered before connecting so no message can arrive unhandled. */
  onMessage: (topic: string, payload: Buffer) => void;
}

/** Subscriptions the hub holds: everything agents publish. */
export const HUB_SUBSCRIPTIONS = [topics.allNodes('events'), topics.allNodes('results'), topics.allNodes('status')];

/** Starts connecting at once; the returned link can be handed to others before it is up. */
export function createHubLink(opts: HubLinkOptions): HubLink {
  const { log } = opts;
  const client: MqttClient = mqtt.connect(opts.url, {
    clientId: HUB_CLIENT_ID,
    username: opts.username ?? HUB_CLIENT_ID,
    password: opts.password,
    // A persistent session makes an external broker queue agents' QoS 1 events while the hub restarts.
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    // Our own outbox/ack protocol carries durability; don't let the client's in-memory queue grow unbounded.
    queueQoSZero: false,
  });
  client.on('message', (topic, payload) => opts.onMessage(topic, payload));
  client.on('error', (err) => log.warn({ err }, 'mqtt link error'));
  client.on('reconnect', () => log.debug('mqtt link reconnecting'));
  client.on('offline', () => log.warn({ url: opts.url }, 'mqtt link offline'));
  client.on('connect', (connack) => {
    log.info({ url: opts.url, sessionPresent: connack.sessionPresent }, 'mqtt link connected');
    client.subscribe(HUB_SUBSCRIPTIONS, { qos: 1 }, (err, granted) => {
      if (err) log.error({ err }, 'mqtt subscribe failed');
      const refused = granted?.filter((g) => g.qos === 128) ?? [];
      if (refused.length) log.error({ refused: refused.map((g) => g.topic) }, 'broker refused hub subscriptions');
    });
  });

  return {
    publish: (topic, payload, p = {}) =>
      new Promise<void>((resolve, reject) => {
        const body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
        client.publish(topic, body, { qos: p.qos ?? 1, retain: p.retain ?? false }, (err) => (err ? reject(err) : resolve()));
      }),
    connected: () => client.connected,
    waitConnected: (timeoutMs = 10_000) =>
      client.connected
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
              client.off('connect', onConnect);
              reject(new Error(`could not connect to MQTT broker at ${opts.url} within ${timeoutMs / 1000} s`));
            }, timeoutMs);
            const onConnect = () => {
              clearTimeout(timer);
              resolve();
            };
            client.once('connect', onConnect);
          }),
    close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}
