import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from '@homelab/logging';
import { channelsTo, filterOf, isNeverRetained } from '@homelab/contracts';
import { HUB_CLIENT_ID } from '../broker/acl';
import type { EmbeddedBroker, InProcessClient } from '../broker/embedded';
import { coalesceWrites, type Corkable } from './coalesce-writes';

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
  /**
   * The hub's embedded broker, when it runs one: the link then attaches to it
   * in process instead of connecting over TCP to itself (`url` is only logged).
   * Per message that saves a broker→hub PUBLISH and a PUBACK, each encoded,
   * written, read and parsed, plus the broker's QoS 1 session bookkeeping for
   * the hub; the durable-write acks to agents are unchanged.
   */
  embedded?: EmbeddedBroker;
  /** Filters beyond HUB_SUBSCRIPTIONS (Home Assistant's birth and button presses, when discovery is on). */
  extraSubscriptions?: string[];
}

/** Subscriptions the hub holds: everything agents publish. */
export const HUB_SUBSCRIPTIONS = channelsTo('hub').map(filterOf);

/** Starts connecting at once; the returned link can be handed to others before it is up. */
export function createHubLink(opts: HubLinkOptions): HubLink {
  const subscriptions = [...HUB_SUBSCRIPTIONS, ...(opts.extraSubscriptions ?? [])];
  if (opts.embedded) return inProcessLink(opts.embedded, opts, subscriptions);
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
    // MQTT.js traces every packet through the debug module (a dozen calls per message, 3 % of
    // ingest even when disabled); the trace stays available with DEBUG set, as debug documents.
    ...(process.env.DEBUG ? {} : { log: () => undefined }),
  });
  // Topics the hub cleared whose clearing (empty) message has not come back yet.
  const clearing = new Set<string>();
  client.on('message', (topic, payload, packet) => {
    // Only a retained or empty message can need the check below; parsing every topic cost 4 % of ingest.
    if ((packet.retain || payload.length === 0) && isNeverRetained(topic)) {
      // An external broker cannot refuse the retain flag per topic (Mosquitto), so a message some
      // client published retained comes back to every subscriber at subscribe time (retain set).
      // docs/mqtt.md says never: the hub clears it, and skips the empty message that clears it.
      if (payload.length === 0 && clearing.delete(topic)) return;
      if (packet.retain && payload.length > 0) clearRetained(topic);
    }
    opts.onMessage(topic, payload);
  });
  const clearRetained = (topic: string) => {
    log.warn({ topic }, 'clearing a retained message on a topic that is never retained');
    if (clearing.size < 10_000) clearing.add(topic);
    client.publish(topic, '', { qos: 1, retain: true }, (err) => {
      if (err) log.warn({ err, topic }, 'could not clear the retained message');
    });
  };
  client.on('error', (err) => log.warn({ err }, 'mqtt link error'));
  client.on('reconnect', () => log.debug('mqtt link reconnecting'));
  client.on('offline', () => log.warn({ url: opts.url }, 'mqtt link offline'));
  // Each connection's stream: the PUBACKs of one read leave in one write (coalesce-writes.ts).
  const coalesced = new WeakSet<object>();
  client.on('connect', () => {
    const stream = client.stream as unknown as Corkable | undefined;
    if (stream && typeof stream.cork === 'function' && !coalesced.has(stream)) {
      coalesced.add(stream);
      coalesceWrites(stream);
    }
  });
  client.on('connect', (connack) => {
    log.info({ url: opts.url, sessionPresent: connack.sessionPresent }, 'mqtt link connected');
    client.subscribe(subscriptions, { qos: 1 }, (err, granted) => {
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

const toBuffer = (payload: unknown): Buffer =>
  Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));

function inProcessLink(broker: EmbeddedBroker, opts: HubLinkOptions, subscriptions: string[]): HubLink {
  const { log } = opts;
  let closed = false;
  const attached: Promise<InProcessClient> = broker.attach(subscriptions, opts.onMessage).then((client) => {
    log.info({ url: opts.url, inProcess: true }, 'mqtt link connected');
    return client;
  });
  attached.catch((err: unknown) => log.error({ err }, 'could not attach to the embedded broker'));
  return {
    publish: async (topic, payload, p = {}) => {
      if (closed) throw new Error('mqtt link closed');
      const client = await attached;
      await client.publish(topic, toBuffer(payload), { qos: p.qos ?? 1, retain: p.retain ?? false });
    },
    connected: () => !closed,
    waitConnected: async (timeoutMs = 10_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`could not attach to the embedded MQTT broker within ${timeoutMs / 1000} s`)), timeoutMs);
      });
      try {
        await Promise.race([attached, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await (await attached.catch(() => null))?.detach();
    },
  };
}
