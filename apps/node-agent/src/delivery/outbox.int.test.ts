import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, topics } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { makeTempDir, spawnLogged, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { NodeAgent } from '../agent';
import { parseAgentConfig } from '../config';
import { connectMqttJs } from './mqtt-link';
import { FakeDocker } from '../testing/fakes';
import { HubSim } from '../testing/hub-sim';
import { TcpGate } from '../testing/tcp-gate';

const log = createLogger('outbox-int', { level: process.env.LOG_LEVEL ?? 'warn' });
const CHILD = path.join(import.meta.dirname, '../testing/agent-child.ts');
const ascending = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1]! < x);
const maxOf = (xs: number[]) => xs.reduce((m, x) => Math.max(m, x), 0);

/** Seqs in an agent's outbox segment files (what must reach the hub). */
async function outboxSeqs(stateDir: string): Promise<number[]> {
  const dir = path.join(stateDir, 'outbox');
  const names = (await fs.readdir(dir)).filter((n) => n.startsWith('seg-'));
  const text = (await Promise.all(names.map((n) => fs.readFile(path.join(dir, n), 'utf8')))).join('');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l).seq as number);
}

async function dirBytes(dir: string): Promise<number> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const sizes = await Promise.all(names.map((n) => fs.stat(path.join(dir, n)).then((s) => s.size)));
  return sizes.reduce((a, b) => a + b, 0);
}

async function durableSeqs(logFile: string): Promise<number[]> {
  const text = await fs.readFile(logFile, 'utf8').catch(() => '');
  return [...text.matchAll(/^durable (\d+)$/gm)].map((m) => Number(m[1]));
}

/**
 * The agent's outbox against a real Mosquitto. The agent reaches the broker
 * through a TcpGate, so an outage starts and ends exactly when the test says
 * while the simulated hub (acks like the hub: after its write, coalesced)
 * stays subscribed. Docker is the fake port: this is about the event path.
 */
describe('agent outbox through a real Mosquitto', () => {
  let tmp: TempDir;
  let mosquitto: MosquittoHandle;
  let gate: TcpGate;
  let hub: HubSim;
  const agents: NodeAgent[] = [];
  const children: LoggedProcess[] = [];

  const startAgent = async (node: string, docker: FakeDocker, env: Record<string, string> = {}) => {
    const config = parseAgentConfig(
      { HOMELAB_SCAN_MS: '200', HOMELAB_ACK_TIMEOUT_MS: '5000', ...env },
      { node, 'mqtt-url': gate.url, 'state-dir': path.join(tmp.path, node) },
    );
    const agent = new NodeAgent({ config, log: log.child({ node }), clock: systemClock, docker, connectMqtt: connectMqttJs });
    await agent.start();
    agents.push(agent);
    return agent;
  };
  const desired = (node: string, services: Record<string, object>) => ({ node, revision: 'r1', ts: new Date().toISOString(), services });

  beforeAll(async () => {
    tmp = await makeTempDir('hl-outbox-int');
    mosquitto = await startMosquitto();
    gate = await TcpGate.open(mosquitto.port);
    hub = await HubSim.start(mosquitto.url);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const a of agents) await a.stop();
    await hub?.close();
    await gate?.cut();
    await mosquitto?.stop();
    await tmp?.cleanup();
  });

  it('spools 20,000 events while the broker is away; back, the birth carries backlog + snapshot, then the backlog in seq order, 0 lost', async () => {
    const node = 'piha';
    const docker = new FakeDocker();
    docker.set('z2m', 'running');
    docker.set('db', 'running');
    await hub.client.publishAsync(topics.desired(node), JSON.stringify(desired(node, { z2m: {}, db: {} })), { qos: 1, retain: true });
    const agent = await startAgent(node, docker);
    await waitFor(() => hub.events(node).filter((e) => e.type === 'service_healthy').length === 2 && agent.snapshot()!.outbox.entries === 0, {
      what: 'both services healthy, outbox acked',
    });
    const deliveredBefore = maxOf(hub.written(node));

    // The outage: the agent loses the broker, and the broker restarts meanwhile (its retained state is gone).
    await gate.cut();
    await waitFor(() => !agent.snapshot()!.connected, { what: 'agent disconnected' });
    await mosquitto.restart();
    await hub.ready();
    docker.set('db', 'exited'); // observed and spooled while offline
    await waitFor(() => agent.snapshot()!.services.db === 'unhealthy', { what: 'db seen unhealthy offline' });

    const t0 = performance.now();
    const burst = await Promise.all(Array.from({ length: 20_000 }, (_, i) => agent.emit({ type: 'node_heartbeat', data: { services: i } })));
    const spoolMs = performance.now() - t0;
    expect(burst.every((e) => e !== null)).toBe(true);
    const spooled = agent.snapshot()!.outbox;
    expect(spooled.entries).toBeGreaterThanOrEqual(20_001);
    expect(spooled.fileBytes).toBeLessThanOrEqual(50 * 1024 * 1024);
    const waiting = (await outboxSeqs(path.join(tmp.path, node))).filter((s) => s > deliveredBefore);
    expect(waiting.length).toBeGreaterThanOrEqual(20_001);

    hub.clear();
    const t1 = performance.now();
    await gate.open();
    await waitFor(() => agent.snapshot()!.outbox.entries === 0, { timeoutMs: 60_000, intervalMs: 10, what: 'backlog drained and acked' });
    const drainMs = performance.now() - t1;

    const fromAgent = hub.received.filter((m) => m.topic === topics.status(node) || m.topic === topics.events(node));
    expect(fromAgent[0]!.topic).toBe(topics.status(node));
    const birth = fromAgent[0]!.body;
    expect(birth).toMatchObject({
      node,
      state: 'online',
      session: 1,
      backlog: { untilSeq: maxOf(waiting) },
      services: { z2m: { status: 'healthy' }, db: { status: 'unhealthy', reason: 'containers_not_running' } },
    });
    expect(birth.backlog.events).toBeGreaterThanOrEqual(waiting.length);

    const seqs = hub.written(node);
    expect(ascending(seqs)).toBe(true);
    const got = new Set(seqs);
    expect(waiting.filter((s) => !got.has(s))).toEqual([]); // 0 lost: every spooled seq reached the hub
    // Every event names its predecessor on the stream; nothing was dropped, so nothing was refused.
    expect(hub.events(node).every((e) => typeof e.prevSeq === 'number' && e.prevSeq < e.seq)).toBe(true);
    expect(hub.refused).toBe(0);
    expect(hub.events(node).some((e) => e.type === 'service_unhealthy' && e.service === 'db' && e.seq <= birth.backlog.untilSeq)).toBe(true);
    const resent = hub.events(node).length - hub.firstArrivals(node).length;
    console.log(
      `outbox: spooled 20,000 events in ${spoolMs.toFixed(0)} ms (${Math.round(20_000 / (spoolMs / 1000))} events/s, ${spooled.syncs} fdatasyncs in all); ` +
        `drained ${waiting.length} to Mosquitto + hub acks in ${drainMs.toFixed(0)} ms (${Math.round(waiting.length / (drainMs / 1000))} events/s), ${resent} resent`,
    );
  });

  it('loses nothing across two kill -9 restarts while the broker is away: seqs continue, order kept, outbox within its cap', async () => {
    const node = 'chelsty-ha';
    const stateDir = path.join(tmp.path, node);
    const cap = 2 * 1024 * 1024;
    await fs.mkdir(stateDir, { recursive: true });
    // The desired-state cache a previous run left: the agent watches without ever reaching the broker.
    await fs.writeFile(path.join(stateDir, 'desired.json'), JSON.stringify(desired(node, { z2m: {} })));
    await gate.cut();
    const durable: number[][] = [];
    for (let round = 0; round < 3; round++) {
      const logFile = path.join(tmp.path, `${node}-${round}.log`);
      const child = spawnLogged(process.execPath, ['--import', 'tsx', CHILD], {
        logFile,
        env: {
          ...process.env,
          HOMELAB_NODE: node,
          HOMELAB_MQTT_URL: gate.url,
          HOMELAB_AGENT_STATE_DIR: stateDir,
          HOMELAB_OUTBOX_MAX_BYTES: String(cap),
          HOMELAB_SCAN_MS: '200',
          CHILD_CONTAINERS: 'z2m',
        },
      });
      children.push(child);
      await waitFor(async () => (await durableSeqs(logFile)).length >= 1000, { timeoutMs: 30_000, what: `round ${round}: 1000 durable events` });
      if (round < 2) {
        child.kill('SIGKILL');
        await child.exited;
      }
      durable.push(await durableSeqs(logFile));
      expect(await dirBytes(path.join(stateDir, 'outbox'))).toBeLessThanOrEqual(cap);
    }
    expect(durable[1]![0]).toBeGreaterThan(maxOf(durable[0]!));
    expect(durable[2]![0]).toBeGreaterThan(maxOf(durable[1]!));

    await gate.open();
    const all = durable.flat();
    await waitFor(
      () => {
        const got = new Set(hub.written(node));
        return all.every((s) => got.has(s));
      },
      { timeoutMs: 60_000, what: 'every durable event at the hub' },
    );
    expect(ascending(hub.written(node))).toBe(true);
    expect(hub.statuses(node).find((s) => s.state === 'online')).toMatchObject({ session: 3, backlog: { events: expect.any(Number) } });
    await children[2]!.stop(5_000);
  });

  it('over its cap during an outage: drops oldest first, reports every lost event in events_dropped, stays within the cap', async () => {
    const node = 'chelsty-infra';
    const docker = new FakeDocker();
    const cap = 64 * 1024;
    const agent = await startAgent(node, docker, { HOMELAB_OUTBOX_MAX_BYTES: String(cap) });
    await waitFor(() => agent.snapshot()!.connected && agent.snapshot()!.outbox.entries === 0, { what: 'connected, acked' });
    await gate.cut();
    await waitFor(() => !agent.snapshot()!.connected, { what: 'agent disconnected' });
    for (let i = 0; i < 30; i++) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => agent.emit({ type: 'node_heartbeat', data: { services: i * 100 + j } })));
      expect(await dirBytes(path.join(tmp.path, node, 'outbox'))).toBeLessThanOrEqual(cap);
    }
    expect(agent.snapshot()!.outbox.dropped).toBeGreaterThan(2000);
    await gate.open();
    await waitFor(() => agent.snapshot()!.outbox.entries === 0, { timeoutMs: 30_000, what: 'drained' });

    const seqs = hub.written(node);
    expect(ascending(seqs)).toBe(true);
    const reports = hub.events(node).filter((e, i, all) => e.type === 'events_dropped' && all.findIndex((o) => o.seq === e.seq) === i);
    expect(reports.length).toBeGreaterThan(0);
    expect(reports.length).toBeLessThan(40); // coalesced: about one per dropped segment, not one per event
    expect(reports.every((r) => r.data.reason === 'outbox_full')).toBe(true);
    const lost = maxOf(seqs) - seqs.length; // one agent run: its seqs have no lease gaps
    expect(reports.reduce((n, r) => n + r.data.count, 0)).toBe(lost);
  });
  it('drains through reconnect flapping: each connection greets first, 0 lost, seq order kept, few resends', async () => {
    const node = 'flappy';
    const agent = await startAgent(node, new FakeDocker());
    await waitFor(() => agent.snapshot()!.connected && agent.snapshot()!.outbox.entries === 0, { what: 'connected, acked' });
    await gate.cut();
    await waitFor(() => !agent.snapshot()!.connected, { what: 'agent disconnected' });
    const burst = await Promise.all(Array.from({ length: 10_000 }, (_, i) => agent.emit({ type: 'node_heartbeat', data: { services: i } })));
    for (let flap = 0; flap < 3; flap++) {
      await gate.open();
      await waitFor(() => hub.events(node).length > (flap + 1) * 1000, { timeoutMs: 10_000, intervalMs: 5, what: `draining (flap ${flap})` });
      await gate.cut(); // mid-drain: hundreds of publishes awaiting PUBACK die with the connection
    }
    await gate.open();
    await waitFor(() => agent.snapshot()!.outbox.entries === 0, { timeoutMs: 30_000, what: 'drained' });
    const seqs = hub.written(node);
    expect(ascending(seqs)).toBe(true);
    const got = new Set(seqs);
    expect(burst.filter((e) => !got.has(e!.seq))).toEqual([]);
    const births = hub.statuses(node).filter((s) => s.state === 'online');
    expect(births.length).toBeGreaterThanOrEqual(4);
    expect(births.slice(1).every((b) => b.backlog && b.backlog.untilSeq >= maxOf(burst.map((e) => e!.seq)))).toBe(true);
    const resent = hub.events(node).length - seqs.length;
    expect(resent).toBeLessThanOrEqual(4 * 1000); // at most one hub window per connection
  });
});
