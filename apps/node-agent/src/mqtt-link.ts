import mqtt from 'mqtt';
import { AgentError, errorMessage } from './errors';
import type { MqttLink, MqttLinkOptions } from './mqtt-port';

/**
 * MqttLink over MQTT.js. Session choice: `clean: false` with the node name as
 * the fixed client id, and QoS 1 subscriptions, so the broker queues commands
 * and acks while the agent is briefly away (and across agent restarts where the
 * broker keeps sessions). Subscriptions are renewed on every connect anyway,
 * for brokers that lost the session; the journal makes redelivered commands
 * harmless. MQTT.js's own queue is only memory (RELIABILITY.md), so nothing
 * is handed to it while disconnected and what it holds unacknowledged is
 * dropped on close: events go through our outbox, results are re-asked by the
 * hub and replayed from the journal.
 */
export function connectMqttJs(opts: MqttLinkOptions): MqttLink {
  const { log } = opts;
  const client = mqtt.connect(opts.url, {
    clientId: opts.clientId,
    username: opts.username,
    password: opts.password,
    clean: false,
    keepalive: 30,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    resubscribe: false,
    queueQoSZero: false,
    will: { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: opts.will.qos, retain: opts.will.retain },
  });
  client.on('message', (topic, payload) => opts.onMessage(topic, payload));
  // While the broker stays away the same error repeats every second: warn once per distinct error.
  let lastError = '';
  client.on('error', (err) => {
    const msg = errorMessage(err);
    if (msg === lastError) log.debug({ err: msg }, 'mqtt error');
    else log.warn({ err: msg, url: opts.url }, 'mqtt error; retrying every second');
    lastError = msg;
  });
  client.on('offline', () => log.debug({ url: opts.url }, 'mqtt offline'));
  client.on('close', () => {
    // MQTT.js would keep unacknowledged QoS 1 publishes in memory and replay them, one round trip
    // each, before the next 'connect' — ahead of the birth. The outbox resends them anyway.
    for (const id of Object.keys(client.outgoing)) {
      if (client.outgoing[Number(id)]?.cmd === 'publish') client.removeOutgoingMessage(Number(id));
    }
    opts.onClose();
  });
  client.on('connect', (connack) => {
    lastError = '';
    log.info({ url: opts.url, sessionPresent: connack.sessionPresent }, 'mqtt connected');
    // Subscribe before anything is sent, so no ack or command of this connection can be missed.
    client.subscribe(opts.subscriptions, { qos: 1 }, (err, granted) => {
      if (err) log.error({ err: errorMessage(err) }, 'mqtt subscribe failed');
      const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
      if (refused.length) log.error({ refused }, 'broker refused subscriptions (check the broker ACL: client id and username must be the node name)');
      if (client.connected) opts.onConnect({ sessionPresent: connack.sessionPresent });
    });
  });

  return {
    // Only while connected: offline, MQTT.js would queue QoS 1 in memory without bound (RELIABILITY.md).
    publish: (topic, payload, p) =>
      new Promise<void>((resolve, reject) => {
        if (!client.connected) return reject(new AgentError('mqtt_unreachable', 'not connected to the broker'));
        client.publish(topic, payload, { qos: p.qos, retain: p.retain ?? false }, (err) => (err ? reject(err) : resolve()));
      }),
    connected: () => client.connected,
    close: () => new Promise<void>((resolve) => client.end(false, {}, () => resolve())),
  };
}
