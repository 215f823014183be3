import fs from 'node:fs';
import mqtt from 'mqtt';
import { AgentError, errorMessage } from '../errors';
import type { MqttLink, MqttLinkOptions } from './mqtt-port';

/** Reconnect backoff: 1 s doubling to 5 s while the broker stays away; back to 1 s once connected. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 5000;

/**
 * MqttLink over MQTT.js. Session choice: `clean: false` with the node name as
 * the fixed client id, and QoS 1 subscriptions, so the broker queues commands
 * and acks while the agent is briefly away (and across agent restarts where the
 * broker keeps sessions). Subscriptions are renewed on every connect anyway,
 * for brokers that lost the session; the journal makes redelivered commands
 * harmless. MQTT.js's own queue is only memory (docs/reliability.md), so nothing
 * is handed to it while disconnected and what it holds unacknowledged is
 * dropped on close: events go through our outbox, results are re-asked by the
 * hub and replayed from the journal.
 */
export function connectMqttJs(opts: MqttLinkOptions): MqttLink {
  const { log } = opts;
  // Each connect attempt gets its own will, numbered like the birth sent on it (mqtt-port.ts).
  let connection = 1;
  const willOf = (n: number) => ({ topic: opts.will.topic, payload: Buffer.from(opts.will.payload(n)), qos: opts.will.qos, retain: opts.will.retain });
  const client = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    ...(opts.caFile ? { ca: fs.readFileSync(opts.caFile) } : {}),
    clean: false,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    resubscribe: false,
    queueQoSZero: false,
    // MQTT.js would otherwise pre-build 65,536 two-byte Buffers (~6 MB of heap) on the first write.
    writeCache: false,
    will: willOf(connection),
  });
  // MQTT.js emits 'reconnect' just before it builds the next CONNECT packet from these options.
  client.on('reconnect', () => {
    connection += 1;
    client.options.will = willOf(connection);
  });
  client.on('message', (topic, payload) => opts.onMessage(topic, payload));
  // While the broker stays away the same error repeats every second: warn once per distinct error.
  let lastError = '';
  client.on('error', (err) => {
    const msg = errorMessage(err);
    const code = (err as { code?: unknown }).code;
    if (msg === lastError) log.debug({ err: msg }, 'mqtt error');
    else if (code === 4 || code === 5) {
      // CONNACK 4/5: the broker does not know this node or its secret (docs/security.md).
      log.error(
        { err: msg, url: opts.url, username: opts.username },
        `mqtt login refused: check HOMELAB_MQTT_PASSWORD or HOMELAB_MQTT_PASSWORD_FILE; on the hub: homelab nodes add ${opts.username}`,
      );
    } else log.warn({ err: msg, url: opts.url }, 'mqtt error; retrying with backoff (1 s doubling to 5 s)');
    lastError = msg;
  });
  client.on('offline', () => log.debug({ url: opts.url }, 'mqtt offline'));
  client.on('close', () => {
    // MQTT.js would keep unacknowledged QoS 1 publishes in memory and replay them, one round trip
    // each, before the next 'connect' — ahead of the birth. The outbox resends them anyway.
    for (const id of Object.keys(client.outgoing)) {
      if (client.outgoing[Number(id)]?.cmd === 'publish') client.removeOutgoingMessage(Number(id));
    }
    // Reconnect backoff: MQTT.js schedules the next attempt with the period set here (1 s, 2 s, 4 s, 5 s…).
    client.options.reconnectPeriod = Math.min(RECONNECT_MAX_MS, Math.max(RECONNECT_MIN_MS, (client.options.reconnectPeriod ?? RECONNECT_MIN_MS) * 2));
    opts.onClose();
  });
  client.on('connect', (connack) => {
    lastError = '';
    client.options.reconnectPeriod = RECONNECT_MIN_MS;
    const mine = connection;
    log.info({ url: opts.url, sessionPresent: connack.sessionPresent, connection: mine }, 'mqtt connected');
    // Subscribe before anything is sent, so no ack or command of this connection can be missed.
    client.subscribe(opts.subscriptions, { qos: 1 }, (err, granted) => {
      if (err) log.error({ err: errorMessage(err) }, 'mqtt subscribe failed');
      const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
      if (refused.length) log.error({ refused }, 'broker refused subscriptions (check the broker ACL: client id and username must be the node name)');
      if (client.connected) opts.onConnect({ sessionPresent: connack.sessionPresent, connection: mine });
    });
  });

  return {
    // Only while connected: offline, MQTT.js would queue QoS 1 in memory without bound (docs/reliability.md).
    publish: (topic, payload, p) =>
      new Promise<void>((resolve, reject) => {
        if (!client.connected) return reject(new AgentError('mqtt_unreachable', 'not connected to the broker'));
        client.publish(topic, payload, { qos: p.qos, retain: p.retain ?? false }, (err) => (err ? reject(err) : resolve()));
      }),
    connected: () => client.connected,
    close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}
