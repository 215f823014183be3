import fs from 'node:fs/promises';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { Aedes, type Client } from 'aedes';
import { DEFAULT_HA_ACL, isNeverRetained, systemClock, type HaAclOptions } from '@homelab/contracts';
import type { Logger } from '@homelab/logging';
import { PeriodicLoop } from '@homelab/runtime';
import { HubError } from '../errors';
import { mayPublish, maySubscribe, type Identity } from './acl';
import { decideConnect, type CredentialCheck } from './auth';
import { gatherWrites } from './gather-writes';
import { FrameSizeGuard, PACKET_OVERHEAD_BYTES } from './packet-guard';
import { TokenBucket } from './rate-limit';
import { cacheTopicMatches } from './topic-match-cache';

export interface EmbeddedBrokerOptions {
  host: string;
  port: number;
  maxPayloadBytes: number;
  log: Logger;
  /** Who may connect (state/mqtt-credentials.json through CredentialStore). */
  credentials: CredentialCheck;
  /** Development only: clients without credentials claim an identity as they did before credentials existed. */
  allowAnonymous?: boolean;
  /** Per node connection; null or a rate of 0 turns it off. */
  rateLimit?: { perSec: number; burst: number } | null;
  /** A second listener speaking MQTT over TLS (paths to PEM files). */
  tls?: { host: string; port: number; certFile: string; keyFile: string };
  now?: () => number;
  /** The discovery prefix and whether Approve buttons are on: what the hub and Home Assistant may do there (haGrants). */
  homeAssistant?: HaAclOptions;
  /** How often the credentials are re-read to disconnect removed or rotated identities (default 5 s). */
  revokeCheckMs?: number;
}

/** Refusals by the broker since it started (GET /healthz shows them). */
export interface BrokerCounters {
  connectRefused: number;
  publishRefusedAcl: number;
  subscribeRefusedAcl: number;
  payloadTooLarge: number;
  packetTooLarge: number;
  rateLimited: number;
}

export interface EmbeddedBroker {
  /** URL agents and inspectors connect to (the hub itself attaches in process, see attach()). */
  url: string;
  port: number;
  /** `mqtts://` URL of the TLS listener, when configured. */
  tlsUrl?: string;
  counters(): BrokerCounters;
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
 * The embedded aedes broker, the hub's default (`--mqtt-url` picks an external
 * one instead). Hooks come from auth.ts (who) and acl.ts (what): aedes allows
 * every connect, publish and subscribe unless they are written.
 * docs/security.md explains each control.
 */
export async function startEmbeddedBroker(opts: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { log } = opts;
  const now = opts.now ?? Date.now;
  const ha = opts.homeAssistant ?? DEFAULT_HA_ACL;
  const counters: BrokerCounters = { connectRefused: 0, publishRefusedAcl: 0, subscribeRefusedAcl: 0, payloadTooLarge: 0, packetTooLarge: 0, rateLimited: 0 };
  if (opts.allowAnonymous) {
    log.warn(
      { allowAnonymous: true },
      'ANONYMOUS MQTT ALLOWED (--allow-anonymous): any client on the network can claim to be any node and send the hub events. Development only; add credentials with `homelab nodes add <node>`.',
    );
  }
  // Identity is fixed at CONNECT time from client id, username and password.
  const identities = new WeakMap<object, Identity>();
  const who = (client: object): Identity => identities.get(client) ?? { kind: 'none' };
  // An agent publishes on the same few topics all the time: remember the last one allowed per client.
  const lastAllowed = new WeakMap<object, string>();
  const warnedRetain = new WeakSet<object>();
  const limit = opts.rateLimit && opts.rateLimit.perSec > 0 ? opts.rateLimit : null;
  // Per node, not per connection: reconnecting does not refill the bucket.
  const buckets = new Map<string, TokenBucket>();
  const lastThrottleLog = new Map<string, number>();
  /** Connections made with a credential, and the hash of the secret they proved. */
  const loggedIn = new Map<Client, { username: string; hash: string }>();
  const broker = await Aedes.createBroker({
    id: 'homelab-hub-broker',
    authenticate(client, username, password, done) {
      decideConnect(opts.credentials, opts.allowAnonymous ?? false, client.id, username, password).then(
        (decision) => {
          if (!decision.ok) {
            counters.connectRefused++;
            log.warn({ clientId: client.id, username, reason: decision.reason }, 'mqtt connection refused');
            done(Object.assign(new Error(decision.reason), { returnCode: decision.returnCode }), false);
            return;
          }
          if (decision.anonymous) log.warn({ clientId: client.id, username, as: decision.identity.kind }, 'anonymous mqtt client admitted (--allow-anonymous)');
          identities.set(client, decision.identity);
          if (decision.credential) loggedIn.set(client, decision.credential);
          done(null, true);
        },
        (err: unknown) => {
          counters.connectRefused++;
          log.error({ err, clientId: client.id }, 'mqtt authentication failed');
          done(Object.assign(new Error('server unavailable'), { returnCode: 3 }), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      // client is null for messages the broker itself publishes (e.g. wills are published with the client).
      if (client) {
        const id = who(client);
        if (lastAllowed.get(client) !== packet.topic) {
          if (!mayPublish(id, packet.topic, ha)) {
            counters.publishRefusedAcl++;
            log.warn({ clientId: client.id, topic: packet.topic }, 'publish refused by ACL');
            done(new Error('not authorized'));
            return;
          }
          lastAllowed.set(client, packet.topic);
        }
      }
      if (packet.payload && packet.payload.length > opts.maxPayloadBytes) {
        counters.payloadTooLarge++;
        log.warn({ clientId: client?.id, topic: packet.topic, bytes: packet.payload.length }, 'publish refused: payload too large');
        done(new Error('payload too large'));
        return;
      }
      if (packet.retain && isNeverRetained(packet.topic)) {
        // docs/mqtt.md: events, commands, results and acks are never retained. The message
        // still goes to its subscribers; the broker only does not keep it for later ones.
        packet.retain = false;
        if (client && !warnedRetain.has(client)) {
          warnedRetain.add(client);
          log.warn({ clientId: client.id, topic: packet.topic }, 'retain flag dropped: this topic is never retained');
        }
      }
      const node = client ? who(client) : null;
      if (!limit || node?.kind !== 'node') {
        done(null);
        return;
      }
      // Over its rate a node is slowed, not dropped: the answer (and with it the PUBACK and
      // aedes' next read from that socket) waits for a token. Far beyond it, it is cut off.
      let bucket = buckets.get(node.node);
      if (!bucket) buckets.set(node.node, (bucket = new TokenBucket(limit.perSec, limit.burst, now())));
      const wait = bucket.reserve(now());
      if (wait === 0) {
        done(null);
        return;
      }
      counters.rateLimited++;
      const t = now();
      if (t - (lastThrottleLog.get(node.node) ?? -Infinity) >= 10_000) {
        lastThrottleLog.set(node.node, t);
        log.warn(
          { clientId: client!.id, perSec: limit.perSec, burst: limit.burst, waitMs: wait },
          wait === null ? 'publish refused: rate limit' : 'publishes slowed: rate limit',
        );
      }
      if (wait === null) done(new Error('rate limit exceeded'));
      else setTimeout(() => done(null), wait).unref();
    },
    authorizeSubscribe(client, sub, done) {
      if (!maySubscribe(who(client), sub.topic, ha)) {
        counters.subscribeRefusedAcl++;
        log.warn({ clientId: client.id, filter: sub.topic }, 'subscription refused by ACL');
        done(null, null);
        return;
      }
      done(null, sub);
    },
  });
  cacheTopicMatches(broker);
  broker.on('clientError', (client, err) => log.debug({ err, clientId: client.id }, 'mqtt client error'));

  // A removed or rotated secret also ends the connections made with it (within revokeCheckMs).
  broker.on('clientDisconnect', (client) => loggedIn.delete(client));
  const revoke = async () => {
    await opts.credentials.refresh?.();
    const users = opts.credentials.current().users;
    for (const [client, cred] of loggedIn) {
      if (client.closed) loggedIn.delete(client);
      if (client.closed || users[cred.username]?.scrypt === cred.hash) continue;
      loggedIn.delete(client);
      log.warn({ clientId: client.id, username: cred.username }, 'mqtt identity removed or its secret rotated: disconnecting');
      client.close();
    }
  };
  const revocation = new PeriodicLoop({
    name: 'credential check',
    clock: systemClock,
    log,
    run: revoke,
    onFailure: (err) => log.warn({ err }, 'credential check failed'),
  });
  revocation.start(opts.revokeCheckMs ?? 5_000);

  // Every connection, plain or TLS: aedes plus the packet-size guard, which cuts a
  // connection as soon as an oversize packet's header arrives.
  const maxPacketBytes = opts.maxPayloadBytes + PACKET_OVERHEAD_BYTES;
  const sockets = new Set<Duplex>();
  const handle = (stream: Duplex) => {
    sockets.add(stream);
    stream.on('close', () => sockets.delete(stream));
    const client = broker.handle(gatherWrites(stream));
    const guard = new FrameSizeGuard(maxPacketBytes);
    stream.on('data', (chunk: Buffer) => {
      const declared = guard.push(chunk);
      if (declared === null) return;
      counters.packetTooLarge++;
      // Same words as the payload check: for the operator both are "too large".
      log.warn({ clientId: client.id ?? undefined, bytes: declared, maxPacketBytes }, 'publish refused: payload too large');
      stream.destroy();
    });
  };

  const listen = (server: net.Server, host: string, port: number, what: string) =>
    new Promise<net.AddressInfo>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EADDRINUSE') {
          reject(
            new HubError(
              'port_in_use',
              `${what} port ${port} on ${host} is already in use. Set --mqtt-port (HOMELAB_MQTT_PORT) to a free port, ` +
                `or run against the broker that holds it with --mqtt-url mqtt://${host}:${port} (HOMELAB_MQTT_URL, external-broker mode).`,
              { cause: err },
            ),
          );
        } else reject(err);
      });
      server.listen(port, host, () => resolve(server.address() as net.AddressInfo));
    });

  const servers: net.Server[] = [];
  let address: net.AddressInfo;
  let tlsAddress: net.AddressInfo | undefined;
  try {
    const server = net.createServer(handle);
    servers.push(server);
    address = await listen(server, opts.host, opts.port, 'MQTT');
    if (opts.tls) {
      const [cert, key] = await Promise.all([readPem(opts.tls.certFile, 'certificate'), readPem(opts.tls.keyFile, 'key')]);
      let tlsServer: tls.Server;
      try {
        tlsServer = tls.createServer({ cert, key, minVersion: 'TLSv1.2' }, handle);
      } catch (err) {
        throw new HubError('config_invalid', `MQTT TLS: ${opts.tls.certFile} / ${opts.tls.keyFile}: ${(err as Error).message}`, { cause: err });
      }
      tlsServer.on('tlsClientError', (err) => log.debug({ err: err.message }, 'mqtt tls handshake failed'));
      servers.push(tlsServer);
      tlsAddress = await listen(tlsServer, opts.tls.host, opts.tls.port, 'MQTT TLS');
    }
  } catch (err) {
    for (const s of servers) s.close();
    broker.close();
    throw err;
  }
  log.info({ host: opts.host, port: address.port, tlsPort: tlsAddress?.port, allowAnonymous: opts.allowAnonymous ?? false }, 'embedded MQTT broker listening');

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
    ...(tlsAddress ? { tlsUrl: `mqtts://127.0.0.1:${tlsAddress.port}` } : {}),
    counters: () => ({ ...counters }),
    connectedClients: () => broker.connectedClients,
    attach,
    close: async () => {
      await revocation.stop();
      await new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        let open = servers.length;
        for (const server of servers) server.close(() => --open === 0 && broker.close(() => resolve()));
      });
    },
  };
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new HubError('config_invalid', `MQTT TLS ${what} ${file}: ${(err as Error).message}`, { cause: err });
  }
}
