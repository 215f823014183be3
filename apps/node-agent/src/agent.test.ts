import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HOMELAB_VERSION, ManualClock, topics } from '@homelab/contracts';
import { isSettled, makeTempDir, waitFor, type TempDir } from '@homelab/testkit';
import { NodeAgent } from './agent';
import { AgentError } from './errors';
import { parseAgentConfig } from './config';
import type { MqttLink, MqttLinkOptions } from './delivery/mqtt-port';
import type { DockerCapabilities } from './docker/docker-port';
import type { ProbeRunner } from './watch/probes';
import { FakeCleanupDocker, FakeDocker, FakeLink, flush, silentLog } from './testing/fakes';

class FakeMqtt extends FakeLink implements MqttLink {
  closed = false;
  constructor(readonly opts: MqttLinkOptions) {
    super();
    this.isConnected = false;
  }
  async close() {
    this.closed = true;
    this.isConnected = false;
  }
  connection = 0;
  connect() {
    this.isConnected = true;
    this.opts.onConnect({ sessionPresent: false, connection: ++this.connection });
  }
  drop() {
    this.isConnected = false;
    this.opts.onClose();
  }
  deliver(topic: string, payload: unknown) {
    this.opts.onMessage(topic, Buffer.from(JSON.stringify(payload)));
  }
}

/** A NodeAgent for `piha` on fakes; every link it opens is pushed to `links`. */
function fakeAgent(deps: {
  stateDir: string;
  clock: ManualClock;
  docker: FakeDocker;
  links: FakeMqtt[];
  probeRunner?: ProbeRunner;
  capabilities?: DockerCapabilities;
}): NodeAgent {
  return new NodeAgent({
    config: parseAgentConfig({}, { node: 'piha', 'state-dir': deps.stateDir }),
    log: silentLog,
    clock: deps.clock,
    docker: deps.docker,
    ...(deps.probeRunner ? { probeRunner: deps.probeRunner } : {}),
    ...(deps.capabilities ? { capabilities: deps.capabilities } : {}),
    connectMqtt: (opts) => {
      const l = new FakeMqtt(opts);
      deps.links.push(l);
      return l;
    },
  });
}

/** Every file under `dir` with its bytes and modification time. */
async function filesWithBytes(dir: string): Promise<Record<string, [string, number]>> {
  const out: Record<string, [string, number]> = {};
  for (const e of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const full = path.join(e.parentPath, e.name);
    out[path.relative(dir, full)] = [await fs.readFile(full, 'utf8'), (await fs.stat(full)).mtimeMs];
  }
  return out;
}

describe('NodeAgent (fakes)', () => {
  let tmp: TempDir;
  let docker: FakeDocker;
  let links: FakeMqtt[];
  let clock: ManualClock;
  const agents: NodeAgent[] = [];
  const make = () => {
    const agent = fakeAgent({ stateDir: tmp.path, clock, docker, links });
    agents.push(agent);
    return agent;
  };

  beforeEach(async () => {
    tmp = await makeTempDir('hl-agent');
    docker = new FakeDocker();
    docker.set('z2m', 'running');
    links = [];
    clock = new ManualClock();
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await tmp.cleanup();
  });

  it('connects as the node with a retained offline will and publishes a retained birth with the same session and the program version', async () => {
    const agent = make();
    await agent.start();
    const l = links[0]!;
    expect(l.opts).toMatchObject({ clientId: 'piha', username: 'piha', subscriptions: [topics.desired('piha'), topics.commands('piha'), topics.acks('piha')] });
    expect(l.opts.will).toMatchObject({ topic: topics.status('piha'), qos: 1, retain: true });
    expect(JSON.parse(l.opts.will.payload(1))).toMatchObject({ node: 'piha', state: 'offline', session: 1 });
    l.connect();
    const birth = await waitFor(() => l.sent.find((p) => p.topic === topics.status('piha')), { what: 'birth' });
    expect(birth.opts).toEqual({ qos: 1, retain: true });
    expect(JSON.parse(birth.payload)).toMatchObject({ state: 'online', session: 1, version: HOMELAB_VERSION });
    await agent.stop();
    expect(l.json('/status').at(-1)).toMatchObject({ state: 'offline', session: 1 });
    expect(l.closed).toBe(true);
  });

  it("numbers each connection of a session in its will, its birth and the clean offline, so a blip's will cannot outrank the next birth", async () => {
    const agent = make();
    await agent.start();
    const l = links[0]!;
    expect(JSON.parse(l.opts.will.payload(2))).toMatchObject({ state: 'offline', session: 1, connection: 2 });
    l.connect();
    await waitFor(() => l.json('/status').length === 1, { what: 'first birth' });
    l.drop();
    l.connect();
    await waitFor(() => l.json('/status').length === 2, { what: 'second birth' });
    expect(l.json('/status')).toMatchObject([
      { state: 'online', session: 1, connection: 1 },
      { state: 'online', session: 1, connection: 2 },
    ]);
    await agent.stop();
    expect(l.json('/status').at(-1)).toMatchObject({ state: 'offline', session: 1, connection: 2 });
  });

  it('reports its inventory and runs disk_cleanup only with the capabilities it was given', async () => {
    const desired = { node: 'piha', revision: 'r1', ts: '2026-01-01T00:00:00Z', services: { z2m: {} } };
    const cleanup = {
      actionId: 'act-clean-1',
      type: 'disk_cleanup',
      node: 'piha',
      issuedAt: clock.now().toISOString(),
      deadline: new Date(clock.now().getTime() + 60_000).toISOString(),
    };
    const run = async (capabilities?: DockerCapabilities) => {
      const agent = fakeAgent({ stateDir: path.join(tmp.path, capabilities ? 'able' : 'bare'), clock, docker, links, capabilities });
      agents.push(agent);
      await agent.start();
      const l = links.at(-1)!;
      l.connect();
      l.deliver(topics.desired('piha'), desired);
      await waitFor(() => {
        clock.advance(50);
        return l.json('/events').some((e) => e.type === 'service_healthy');
      });
      l.deliver(topics.commands('piha'), cleanup);
      const result = await waitFor(() => l.json('/results')[0], { what: 'disk_cleanup result' });
      await agent.stop();
      return { inventory: l.json('/events').filter((e) => e.type === 'node_inventory'), result };
    };
    const bare = await run();
    expect(bare.inventory).toEqual([]);
    expect(bare.result).toMatchObject({ status: 'failed', error: { code: 'unsupported' } });
    const able = await run({ inventory: { listAllContainers: async () => [{ name: 'z2m', state: 'running', labels: {} }] }, cleanup: new FakeCleanupDocker() });
    expect(able.inventory[0]).toMatchObject({ data: { scan: { session: 1, desiredRevision: 'r1' } } });
    expect(able.result).toMatchObject({ status: 'completed' });
  });

  it('marks its state folder with the layout and program version, and refuses one a newer agent marked without touching it', async () => {
    const a = make();
    await a.start();
    await a.stop();
    const marker = path.join(tmp.path, 'layout.json');
    expect(JSON.parse(await fs.readFile(marker, 'utf8'))).toEqual({ version: 1, writtenBy: HOMELAB_VERSION });

    await fs.writeFile(marker, JSON.stringify({ version: 2, writtenBy: '9.0.0' }));
    const before = await filesWithBytes(tmp.path);
    const err = await make()
      .start()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentError);
    expect(err).toMatchObject({ code: 'data_root_newer' });
    expect((err as Error).message).toContain(`${marker}: agent state layout version 2, written by homelab 9.0.0; homelab ${HOMELAB_VERSION} reads up to 1`);
    expect(await filesWithBytes(tmp.path)).toEqual(before);
  });

  it('counts sessions up across restarts', async () => {
    for (let i = 0; i < 3; i++) {
      const a = make();
      await a.start();
      await a.stop();
    }
    expect(JSON.parse(links[2]!.opts.will.payload(1)).session).toBe(3);
  });

  it('watches what the desired message names and publishes the verdict; acks empty the outbox', async () => {
    const agent = make();
    await agent.start();
    const l = links[0]!;
    l.connect();
    l.deliver(topics.desired('piha'), { node: 'piha', revision: 'r1', ts: '2026-01-01T00:00:00Z', services: { z2m: {} } });
    const events = await waitFor(() => {
      clock.advance(50); // lets the debounced scan the new desired state asked for run
      const evs = l.json('/events');
      return evs.some((e) => e.type === 'service_healthy') ? evs : null;
    });
    expect(events.find((e) => e.type === 'service_healthy')).toMatchObject({ node: 'piha', service: 'z2m', id: expect.stringMatching(/^piha-\d+$/) });
    const top = Math.max(...events.map((e) => e.seq));
    l.deliver(topics.acks('piha'), { node: 'piha', upToSeq: top });
    await waitFor(() => agent.snapshot()!.outbox.entries === 0, { what: 'outbox emptied by the ack' });
    await agent.stop();
  });
  it('greets every connection with a birth carrying the backlog and the service snapshot, sent before the backlog', async () => {
    docker.set('db', 'exited');
    const agent = make();
    await agent.start();
    const l = links[0]!;
    l.deliver(topics.desired('piha'), { node: 'piha', revision: 'r1', ts: '2026-01-01T00:00:00Z', services: { z2m: {}, db: {} } });
    await waitFor(() => {
      clock.advance(50);
      return Object.keys(agent.snapshot()!.services).length === 2;
    });
    for (let i = 0; i < 5; i++) await agent.emit({ type: 'node_heartbeat' });
    const waiting = agent.snapshot()!.outbox.entries;
    l.connect();
    const events = await waitFor(() => (l.json('/events').length >= waiting ? l.json('/events') : null), { what: 'the backlog' });
    expect(l.sent[0]!.topic).toBe(topics.status('piha'));
    const birth = JSON.parse(l.sent[0]!.payload);
    const untilSeq = Math.max(...events.map((e) => e.seq));
    expect(birth).toMatchObject({
      state: 'online',
      session: 1,
      backlog: { events: waiting, untilSeq },
      services: { z2m: { status: 'healthy' }, db: { status: 'unhealthy', reason: 'containers_not_running' } },
    });
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));

    l.deliver(topics.acks('piha'), { node: 'piha', upToSeq: untilSeq });
    await waitFor(() => agent.snapshot()!.outbox.entries === 0, { what: 'acked' });
    l.drop();
    l.sent.length = 0;
    l.connect();
    const again = await waitFor(() => l.json('/status')[0], { what: 'second birth' });
    expect(again.backlog).toBeUndefined();
    expect(Object.keys(again.services).sort()).toEqual(['db', 'z2m']);
  });
});

/** Files under `dir` this process holds open (Linux: /proc/self/fd). */
async function openFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const fd of await fs.readdir('/proc/self/fd')) {
    const target = await fs.readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.startsWith(dir)) out.push(target);
  }
  return out;
}

describe('NodeAgent start and stop (docs/agent-lifecycle.md)', () => {
  let tmp: TempDir;
  let clock: ManualClock;
  let links: FakeMqtt[];
  const agents: NodeAgent[] = [];
  const make = (probeRunner?: ProbeRunner) => {
    const docker = new FakeDocker();
    docker.set('z2m', 'running');
    const agent = fakeAgent({ stateDir: tmp.path, clock, docker, links, probeRunner });
    agents.push(agent);
    return agent;
  };

  beforeEach(async () => {
    tmp = await makeTempDir('hl-agent-life');
    clock = new ManualClock();
    links = [];
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) await a.stop();
    await tmp.cleanup();
  });

  it('stops newest first, each part awaited: a probe run in flight ends before the offline status and the disconnect', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const agent = make(async () => {
      order.push('probe started');
      await held;
      order.push('probe ended');
      return { ok: true };
    });
    await agent.start();
    const l = links[0]!;
    const publish = l.publish.bind(l);
    l.publish = (topic, payload, opts) => {
      if (topic === topics.status('piha')) order.push(`status ${JSON.parse(String(payload)).state}`);
      return publish(topic, payload, opts);
    };
    const close = l.close.bind(l);
    l.close = () => (order.push('disconnected'), close());
    l.connect();
    l.deliver(topics.desired('piha'), {
      node: 'piha',
      revision: 'r1',
      ts: '2026-01-01T00:00:00Z',
      services: { z2m: { probes: [{ type: 'tcp', port: 1883 }] } },
    });
    await waitFor(() => {
      clock.advance(50);
      return order.includes('probe started');
    });

    const stopped = agent.stop();
    expect(await isSettled(stopped)).toBe(false);
    expect(l.closed).toBe(false);
    release();
    await stopped;
    expect(order.filter((o) => o !== 'status online')).toEqual(['probe started', 'probe ended', 'status offline', 'disconnected']);
    expect(await openFilesUnder(tmp.path)).toEqual([]);
  });

  it('a start that fails half-way closes what it had opened, rejects, and a later start works', async () => {
    const first = make();
    await first.start();
    await first.emit({ type: 'node_heartbeat' }); // the outbox keeps a segment open from now on
    await first.stop();
    // The command journal cannot be created: start fails after the outbox opened.
    await fs.rm(path.join(tmp.path, 'journal'), { recursive: true, force: true });
    await fs.writeFile(path.join(tmp.path, 'journal'), 'not a directory');

    const second = make();
    await expect(second.start()).rejects.toThrow();
    expect(await openFilesUnder(tmp.path)).toEqual([]);
    expect(second.snapshot()).toBeNull();

    await fs.rm(path.join(tmp.path, 'journal'));
    await second.start();
    expect(second.snapshot()).not.toBeNull();
  });

  it('a stop during start waits for the start and then stops everything it started', async () => {
    const agent = make();
    const starting = agent.start();
    const stopping = agent.stop();
    await starting;
    await stopping;
    expect(links).toHaveLength(1);
    expect(links[0]!.closed).toBe(true);
    expect(agent.snapshot()).toBeNull();
    expect(await openFilesUnder(tmp.path)).toEqual([]);
  });
});
