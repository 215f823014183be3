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
  /** URL the hub's own client connects to. */
  url: string;
  port: number;
  connectedClients(): number;
  close(): Promise<void>;
}

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
  const broker = await Aedes.createBroker({
    id: 'homelab-hub-broker',
    authenticate(client, username, _password, done) {
      // Credentials per node arrive with the security work (issue 8); until then identity is claimed, not proven.
      identities.set(client, identify(client.id, username));
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      // client is null for messages the broker itself publishes (e.g. wills are published with the client).
      if (client && !mayPublish(who(client), packet.topic)) {
        log.warn({ clientId: client.id, topic: packet.topic }, 'publish refused by ACL');
        done(new Error('not authorized'));
        return;
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

  return {
    url: `mqtt://127.0.0.1:${address.port}`,
    port: address.port,
    connectedClients: () => broker.connectedClients,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => broker.close(() => resolve()));
      }),
  };
}
