import net from 'node:net';
import { Aedes } from 'aedes';
import type { Logger } from '@homelab/logging';
import { HubError } from '../errors';
import { identify, mayPublish, maySubscribe, type Identity } from './acl';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  maxPayloadBytes: number;
  log: Logger;
}

export interface EmbeddedBroker {
  /** URL agents and inspectors connect to (the hub itself attaches in process, see attach()). */
  url: string;
  port: number;
  /** Connected MQTT clients (agents, inspectors; the hub's in-process link is none). */
  connectedClients(): number;
  /**
   * The hub's own connection, in process: subscriptions and publications go
   * straight through aedes, with no socket, no MQTT encoding and no QoS 1
   * session between broker and hub. Retained messages matching `filters` are
   * delivered once after subscribing, as a network subscription would get them.
   */
  attach(filters: string[], onMessage: (topic: string, payload: Buffer) => void): Promise<InProcessClient>;
  close(): Promise<void>;
}

export interface InProcessClient {
  /** Resolves once the broker has taken the message (queued it for every subscriber), as a PUBACK would say. */
  publish(topic: string, payload: Buffer, opts: { qos: 0 | 1; retain: boolean }): Promise<void>;
  detach(): Promise<void>;
}

type Delivered = { topic: string; payload: Buffer | string };
const asBuffer = (p: Buffer | string): Buffer => (Buffer.isBuffer(p) ? p : Buffer.from(p));

/**
 * The embedded aedes broker (BRIEF.md: the hub embeds one by default). Hooks
 * come from acl.ts; aedes allows everything unless they are written
 * (RELIABILITY.md).
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { log } = opts;
  // Identity is fixed at CONNECT time from client id and username.
  const identities = new WeakMap<object, Identity>();
  const who = (client: { id: string }) => identities.get(client) ?? identify(client.id);
  // An agent publishes on the same few topics all the time: remember the last one allowed per client.
  const lastAllowed = new WeakMap<object, string>();
  const broker = await Aedes.createBroker({
    id: 'homelab-hub-broker',
    authenticate(client, username, _password, done) {
      // Credentials per node arrive with the security work (issue 8); until then identity is claimed, not proven.
      identities.set(client, identify(client.id, username));
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null for messages the broker itself publishes (e.g. wills are published with the client).
      if (client && lastAllowed.get(client) !== packet.topic) {
        if (!mayPublish(who(client), packet.topic)) {
          log.warn({ clientId: client.id, topic: packet.topic }, 'publish refused by ACL');
          done(new Error('not authorized'));
          return;
        }
        lastAllowed.set(client, packet.topic);
      }
      if (packet.payload && packet.payload.length > opts.maxPayloadBytes) {
        log.warn({ clientId: client?.id, topic: packet.topic, bytes: packet.payload.length }, 'publish refused: payload too large');
        done(new Error('payload too large'));
        return;
      }
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      if (!maySubscribe(who(client), sub.topic)) {
        log.warn({ clientId: client.id, filter: sub.topic }, 'subscription refused by ACL');
        done(null, null);
        return;
      }
      done(null, sub);
    },
  });
  broker.on('clientError', (client, err) => log.debug({ err, clientId: client.id }, 'mqtt client error'));

  const server = net.createServer(broker.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      broker.close();
      if (err.code === 'EADDRINUSE') {
        reject(
          new HubError(
            'port_in_use',
            `MQTT port ${opts.port} on ${opts.host} is already in use. Set --mqtt-port (HOMELAB_MQTT_PORT) to a free port, ` +
              `or run against the broker that holds it with --mqtt-url mqtt://${opts.host}:${opts.port} (HOMELAB_MQTT_URL, external-broker mode).`,
            { cause: err },
          ),
        );
      } else reject(err);
    });
    server.listen(opts.port, opts.host, () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  log.info({ host: opts.host, port: address.port }, 'embedded MQTT broker listening');
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const attach = async (filters: string[], onMessage: (topic: string, payload: Buffer) => void): Promise<InProcessClient> => {
    // Handed on at once: the broker acks the publisher without waiting for the hub
    // (durability is the hub's own ack, after fdatasync), exactly as over a socket.
    const handler = (packet: Delivered, cb: () => void) => {
      try {
        onMessage(packet.topic, asBuffer(packet.payload));
      } finally {
        cb();
      }
    };
    const call = (fn: (done: () => void) => void) => new Promise<void>((resolve) => fn(() => resolve()));
    for (const f of filters) await call((done) => broker.subscribe(f, handler, done));
    // aedes' persistence is not in its type declarations; createRetainedStreamCombi is part of its persistence interface.
    const persistence = (broker as unknown as { persistence: { createRetainedStreamCombi(patterns: string[]): AsyncIterable<Delivered> } }).persistence;
    for await (const packet of persistence.createRetainedStreamCombi(filters)) onMessage(packet.topic, asBuffer(packet.payload));
    return {
      publish: (topic, payload, o) =>
        new Promise<void>((resolve, reject) =>
          broker.publish({ cmd: 'publish', topic, payload, qos: o.qos, retain: o.retain, dup: false }, (err) => (err ? reject(err) : resolve())),
        ),
      detach: async () => {
        for (const f of filters) await call((done) => broker.unsubscribe(f, handler, done));
      },
    };
  };

  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    port: address.port,
    connectedClients: () => broker.connectedClients,
    attach,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => broker.close(() => resolve()));
      }),
  };
}
