/**
 * Benchmark load generator, run as its own process:
 *   node --import tsx test/bench/publisher.ts --url mqtt://127.0.0.1:P --nodes a,b,c --events N [--window W] [--acks]
 *
 * Connects one MQTT.js client per node (client id = username = node name, as
 * agents do, so the hub's embedded broker accepts it), builds every payload,
 * prints `{"ready":true}` and waits for a line on stdin. Then each client
 * publishes its share of the N events at QoS 1, at most W unacknowledged at a
 * time, and the process prints `{"published":…}` once the broker has PUBACKed
 * all of them and, with --acks, `{"acked":…}` once the hub's durable-write
 * acks (homelab/v1/nodes/<node>/acks) cover every node's last seq.
 */
import { parseArgs } from 'node:util';
import readline from 'node:readline';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '@homelab/contracts';
import { testSecret } from '../support/mqtt-identities';
import { eventSource } from './events';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    nodes: { type: 'string', default: 'piha,chelsty-infra,chelsty-ha' },
    events: { type: 'string', default: '100000' },
    window: { type: 'string', default: '1000' },
    acks: { type: 'boolean', default: false },
  },
});
if (!values.url) throw new Error('--url is required');
const url = values.url;
const nodes = values.nodes.split(',');
const total = Number(values.events);
const windowSize = Number(values.window);

const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Payloads first, so the timed part measures the pipeline, not the generator.
const src = eventSource({ services: 40, seed: 7 });
const payloads = nodes.map(() => [] as Buffer[]);
let bytes = 0;
for (let i = 0; i < total; i++) {
  const n = i % nodes.length;
  const p = Buffer.from(JSON.stringify(src.next(nodes[n]!, n)));
  bytes += p.length;
  payloads[n]!.push(p);
}

function connect(node: string): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId: node, username: node, password: testSecret(node), clean: true, reconnectPeriod: 0, connectTimeout: 10_000 });
    c.once('connect', () => resolve(c));
    c.once('error', reject);
  });
}

const clients = await Promise.all(nodes.map(connect));
const lastSeq = payloads.map((p) => p.length);
const ackedSeq = nodes.map(() => 0);
let ackDone: () => void = () => undefined;
const allAcked = new Promise<void>((r) => (ackDone = r));
if (values.acks) {
  await Promise.all(
    clients.map(
      (c, i) =>
        new Promise<void>((resolve, reject) => {
          c.on('message', (_t, payload) => {
            const ack = JSON.parse(payload.toString()) as { upToSeq: number };
            ackedSeq[i] = Math.max(ackedSeq[i]!, ack.upToSeq);
            if (ackedSeq.every((s, j) => s >= lastSeq[j]!)) ackDone();
          });
          c.subscribe(topics.acks(nodes[i]!), { qos: 1 }, (err, granted) =>
            err || granted?.[0]?.qos === 128 ? reject(err ?? new Error('ack subscription refused')) : resolve(),
          );
        }),
    ),
  );
}

out({ ready: true, events: total, avgBytes: Math.round(bytes / total) });
await new Promise<void>((resolve) => readline.createInterface({ input: process.stdin }).once('line', () => resolve()));
const t0 = performance.now();

/** Publishes one node's payloads with at most `windowSize` awaiting PUBACK. */
function pump(c: MqttClient, topic: string, list: Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let done = 0;
    const send = () => {
      while (next < list.length && next - done < windowSize) {
        c.publish(topic, list[next++]!, { qos: 1 }, (err) => {
          if (err) return reject(err);
          if (++done === list.length) resolve();
          else send();
        });
      }
    };
    if (list.length === 0) resolve();
    else send();
  });
}

const cpu0 = process.cpuUsage();
const cpuMs = () => {
  const c = process.cpuUsage(cpu0);
  return (c.user + c.system) / 1000;
};
await Promise.all(clients.map((c, i) => pump(c, topics.events(nodes[i]!), payloads[i]!)));
out({ published: performance.now() - t0, cpuMs: cpuMs() });
if (values.acks) {
  await allAcked;
  out({ acked: performance.now() - t0, cpuMs: cpuMs() });
}
await Promise.all(clients.map((c) => c.endAsync()));
process.exit(0);
