/**
 * A node agent in a process of its own, for crash tests (outbox.int.test.ts):
 * the real outbox, seq lease and MQTT link, with FakeDocker standing in for
 * the Docker socket. Configured like the real agent through HOMELAB_*; it
 * emits CHILD_BURST events every CHILD_EVERY_MS and prints `durable <seq>`
 * for each once emit() resolved — the promise that the event is on disk — so
 * a test can kill -9 it at any moment and still know what must not be lost.
 * SIGTERM stops it cleanly. Run with `node --import tsx`.
 */
import { systemClock } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { NodeAgent } from '../agent';
import { parseAgentConfig } from '../config';
import { connectMqttJs } from '../delivery/mqtt-link';
import { FakeDocker } from './fakes';

const env = process.env;
const docker = new FakeDocker();
for (const name of (env.CHILD_CONTAINERS ?? '').split(',').filter(Boolean)) docker.set(name, 'running');
const agent = new NodeAgent({
  config: parseAgentConfig(env),
  log: createLogger('agent-child', { level: env.LOG_LEVEL ?? 'warn' }),
  clock: systemClock,
  docker,
  connectMqtt: connectMqttJs,
});
await agent.start();
process.stdout.write('child ready\n');

const burst = Number(env.CHILD_BURST ?? 50);
const everyMs = Number(env.CHILD_EVERY_MS ?? 20);
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
  void agent.stop().then(() => process.exit(0));
});
while (!stopping) {
  const events = await Promise.all(Array.from({ length: burst }, (_, i) => agent.emit({ type: 'node_heartbeat', data: { services: i } }).catch(() => null)));
  // stdout is a file here: written synchronously, so a line printed is a line kept even under kill -9.
  process.stdout.write(events.map((e) => (e ? `durable ${e.seq}\n` : '')).join(''));
  await new Promise((r) => setTimeout(r, everyMs));
}
