import path from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import {
  accountStream,
  describeAccount,
  emittedSoFar,
  expectReplayIdentical,
  type FaultHub,
  healthz,
  kill9,
  outboxLines,
  startFaultHub,
  startLoadAgent,
  waitOfflineLogged,
  waitWorldFolded,
  worldMismatches,
} from '../support/fault';
import { readEvents, readJson, writeHosts } from '../support/stack';

/**
 * docs/reliability.md, "Agent cut off": an agent cut off from the hub for a long
 * stretch (the hub, with its embedded broker, is down ~30 s) keeps observing
 * and spooling at a steady rate, and is itself restarted twice meanwhile (once
 * kill -9, once SIGTERM). When the hub is back, the backlog arrives complete
 * and in seq order, the outbox never exceeded its byte cap, and the world
 * equals a replay of the log.
 */
describe('an agent cut off for a long stretch and restarted twice meanwhile', () => {
  const node = 'remote-1';
  const events = 7000;
  const rate = 150; // events/s: ~47 s of emission, ~30 s of it during the outage
  const cap = 4 * 1024 * 1024;
  const agentEnv = { HOMELAB_ACK_TIMEOUT_MS: '5000', HOMELAB_OUTBOX_MAX_BYTES: String(cap) };
  let tmp: TempDir;
  let hub: FaultHub | undefined;
  const incarnations: LoggedProcess[] = [];
  let failed = false;

  afterAll(async () => {
    await Promise.all(incarnations.map((a) => a.stop()));
    await hub?.proc.stop();
    if (failed) console.log(`kept for inspection: ${tmp?.path}`);
    else await tmp?.cleanup();
  });

  it('delivers the whole backlog in seq order, within the outbox cap, and the world equals a replay', async () => {
    onTestFailed(() => {
      failed = true;
    });
    tmp = await makeTempDir('hl-dur-cut-');
    const root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    const stateDir = path.join(tmp.path, `agent-${node}`);
    await writeHosts(hostsDir, { piha: 'node: piha\nservices: {}\n' });
    hub = await startFaultHub({ root, hostsDir, name: 'durability-cutoff-hub-1' });
    const start = (n: number) =>
      startLoadAgent({ node, mqttUrl: hub!.mqttUrl, stateDir, events, rate, name: `durability-cutoff-agent-${n}`, env: agentEnv, hubRoot: root }).then((p) => {
        incarnations.push(p);
        return p;
      });

    let agent = await start(1);
    await waitFor(async () => (await healthz(hub!.httpUrl)).ingest.accepted >= 500, { timeoutMs: 60_000, what: '500 events stored before the cut' });
    const storedBeforeCut = (await healthz(hub.httpUrl)).ingest.accepted;

    // The cut: the hub (and with it the broker) is gone.
    const cutAt = Date.now();
    await kill9(hub.proc);
    await agent.waitForOutput(/mqtt error; retrying/, 30_000);

    // Restart 1: kill -9 after ~1,500 more events.
    const mark1 = emittedSoFar(agent);
    await waitFor(() => emittedSoFar(agent) >= mark1 + 1500, { timeoutMs: 60_000, what: 'incarnation 1 spooling 1,500 events offline' });
    await kill9(agent);
    agent = await start(2);

    // Restart 2: SIGTERM (clean stop, outbox kept) after ~1,500 more.
    await waitFor(() => emittedSoFar(agent) >= mark1 + 3000, { timeoutMs: 60_000, what: 'incarnation 2 spooling 1,500 events offline' });
    expect(await agent.stop()).toBe(0);
    agent = await start(3);

    // Stay cut off ~30 s in all.
    await waitFor(() => Date.now() - cutAt >= 30_000 && emittedSoFar(agent) > mark1 + 3000, { timeoutMs: 60_000, intervalMs: 250, what: '30 s offline' });
    const offlineMs = Date.now() - cutAt;
    const spooled = outboxLines(agent).at(-1);
    hub = await startFaultHub({ root, hostsDir, name: 'durability-cutoff-hub-2', ports: hub.ports });
    const hubBackAt = new Date();

    await agent.waitForOutput(/^emitted-all \d+$/m, 120_000);
    await agent.waitForOutput(/^acked \d+$/m, 120_000);
    await agent.stop();
    await waitOfflineLogged(root, [node]);
    await waitWorldFolded(root);
    const counters = (await healthz(hub.httpUrl)).ingest;
    await hub.proc.stop();
    console.log(
      `offline ${offlineMs} ms; stored before the cut ${storedBeforeCut}; outbox when the hub came back ${JSON.stringify(spooled)}; ingest after ${JSON.stringify(counters)}`,
    );

    const a = await accountStream(root, node, stateDir, events);
    console.log(describeAccount(a));
    expect(a.missing, describeAccount(a)).toEqual([]);
    expect(a.doubled, describeAccount(a)).toEqual([]);
    // The backlog, across three agent processes, arrives in seq order.
    expect(a.outOfOrder, describeAccount(a)).toEqual([]);
    expect(a.indexesMissing, describeAccount(a)).toEqual([]);
    // Durable but unrecorded at the kill -9: at most one emit wave (rate/20), each delivered once and re-emitted after the restart.
    expect(a.orphans.length).toBeLessThanOrEqual(Math.ceil(rate / 20));
    expect(a.otherTypes.events_dropped ?? 0).toBe(0);

    // What was spooled while cut off arrived after the hub came back.
    const stored = await readEvents(root, node);
    const late = stored.filter((r) => new Date(r.rx) >= hubBackAt);
    expect(late.length).toBeGreaterThanOrEqual(3000);

    // The outbox held the backlog within its cap and dropped nothing.
    const all = incarnations.flatMap(outboxLines);
    expect(all.length).toBeGreaterThan(0);
    expect(Math.max(...all.map((o) => o.fileBytes))).toBeLessThanOrEqual(cap);
    expect(Math.max(...all.map((o) => o.entries))).toBeGreaterThanOrEqual(3000);
    expect(all.every((o) => o.dropped === 0)).toBe(true);

    // The births announced the backlog (hub stream node_online with backlogUntilSeq).
    const births = (await readEvents(root, '_hub')).map((r) => r.event).filter((e) => e.node === node && e.type === 'node_online');
    expect(births.some((e) => (e.data.backlogEvents ?? 0) >= 3000)).toBe(true);

    const world = await readJson(path.join(root, 'world/services.json'));
    expect(worldMismatches(world, a)).toEqual([]);
    await expectReplayIdentical(root, hostsDir, 'durability-cutoff-replay');
  }, 240_000);
});
