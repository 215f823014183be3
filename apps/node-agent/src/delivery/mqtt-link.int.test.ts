import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { startMosquitto, waitFor, type MosquittoHandle } from '@homelab/testkit';
import { connectMqttJs } from './mqtt-link';
import { TcpGate } from '../testing/tcp-gate';

const log = createLogger('mqtt-link-int', { level: process.env.LOG_LEVEL ?? 'warn' });

/** MQTT.js's offline queue is memory only (docs/reliability.md, "The MQTT client's queue is memory"): the link must not use it. */
describe('MQTT link over a real Mosquitto', () => {
  let mosquitto: MosquittoHandle;
  let gate: TcpGate;

  beforeAll(async () => {
    mosquitto = await startMosquitto();
    gate = await TcpGate.open(mosquitto.port);
  });

  afterAll(async () => {
    await gate?.cut();
    await mosquitto?.stop();
  });

  it('holds nothing back for later: offline publishes fail at once, unacknowledged ones when the connection drops', async () => {
    let connects = 0;
    const link = connectMqttJs({
      url: gate.url,
      clientId: 'linktest',
      username: 'linktest',
      will: { topic: topics.status('linktest'), payload: () => '{}', qos: 1, retain: true },
      subscriptions: [],
      log,
      onConnect: () => (connects += 1),
      onClose: () => undefined,
      onMessage: () => undefined,
    });
    try {
      await waitFor(() => connects === 1, { what: 'link connected' });
      const outcomes: string[] = [];
      const inFlight = Array.from({ length: 2000 }, (_, i) =>
        link.publish('homelab/v1/test/flood', String(i), { qos: 1 }).then(
          () => outcomes.push('acked'),
          () => outcomes.push('failed'),
        ),
      );
      await gate.cut();
      // Every promise settles without a reconnect: nothing waits in MQTT.js's memory for a replay.
      await waitFor(() => outcomes.length === 2000, { timeoutMs: 5_000, what: 'all publishes settled' });
      await Promise.all(inFlight);
      await expect(link.publish('homelab/v1/test/flood', 'x', { qos: 1 })).rejects.toMatchObject({ code: 'mqtt_unreachable' });
    } finally {
      await gate.open();
      await Promise.race([link.close(), new Promise((r) => setTimeout(r, 2000))]);
    }
  });

  it('gives every connection its own will, numbered like the connection the birth reports', async () => {
    const wills: unknown[] = [];
    const watcher = mqtt.connect(mosquitto.url, { clientId: 'linktest-watcher', reconnectPeriod: 0 });
    await new Promise<void>((resolve) => watcher.on('connect', () => watcher.subscribe(topics.status('linktest-will'), { qos: 1 }, () => resolve())));
    watcher.on('message', (_t, payload) => payload.length && wills.push(JSON.parse(payload.toString())));
    const connections: number[] = [];
    const link = connectMqttJs({
      url: gate.url,
      clientId: 'linktest-will',
      username: 'linktest-will',
      will: { topic: topics.status('linktest-will'), payload: (connection) => JSON.stringify({ state: 'offline', connection }), qos: 1, retain: true },
      subscriptions: [],
      log,
      onConnect: (info) => connections.push(info.connection),
      onClose: () => undefined,
      onMessage: () => undefined,
    });
    try {
      await waitFor(() => connections.length === 1, { what: 'first connection' });
      await gate.cut();
      await waitFor(() => wills.length === 1, { what: 'the will of the first connection' });
      await gate.open();
      await waitFor(() => connections.length === 2, { timeoutMs: 15_000, what: 'reconnected' });
      await gate.cut();
      await waitFor(() => wills.length === 2, { what: 'the will of the second connection' });
      expect(connections[0]).toBe(1);
      expect(connections[1]).toBeGreaterThan(1);
      expect(wills).toEqual([
        { state: 'offline', connection: connections[0] },
        { state: 'offline', connection: connections[1] },
      ]);
    } finally {
      await gate.open();
      await Promise.race([link.close(), new Promise((r) => setTimeout(r, 2000))]);
      watcher.publish(topics.status('linktest-will'), '', { retain: true });
      await new Promise<void>((resolve) => watcher.end(false, {}, () => resolve()));
    }
  });
});
