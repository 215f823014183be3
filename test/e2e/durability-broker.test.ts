import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { makeTempDir, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import {
  expectEveryEventOnce,
  expectReplayIdentical,
  type FaultHub,
  healthz,
  startFaultHub,
  startLoadAgent,
  waitOfflineLogged,
  waitWorldFolded,
} from '../support/fault';
import { readJson, writeHosts } from '../support/stack';

/**
 * docs/reliability.md, "Broker crash": Mosquitto (no persistence, so a crash
 * loses every queued message and the hub's session) is killed with -9 twice
 * during a 20,000-event burst from three real agents, and restarted on the
 * same port. The hub (--mqtt-url) and the agents reconnect; the agents' outboxes
 * and the hub's post-fsync acks must make up for everything the broker lost.
 */
describe('Mosquitto killed with -9 twice during a 20,000-event burst', () => {
  const nodes = [
    { node: 'mq-a', events: 6667 },
    { node: 'mq-b', events: 6667 },
    { node: 'mq-c', events: 6666 },
  ];
  const total = nodes.reduce((n, x) => n + x.events, 0);
  const agentEnv = { HOMELAB_ACK_TIMEOUT_MS: '5000' };
  let tmp: TempDir;
  let mosquitto: MosquittoHandle | undefined;
  let hub: FaultHub | undefined;
  const agents: LoggedProcess[] = [];
  let failed = false;

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.proc.stop();
    await mosquitto?.stop();
    // A failed run keeps its data root and agent state dirs for the post-mortem.
    if (failed) console.log(`kept for inspection: ${tmp?.path}`);
    else await tmp?.cleanup();
  });

  it('loses nothing, doubles nothing, and the world equals a replay', async () => {
    onTestFailed(() => {
      failed = true;
    });
    tmp = await makeTempDir('hl-dur-mq-');
    const root = path.join(tmp.path, 'root');
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices: {}\n' });
    mosquitto = await startMosquitto();
    hub = await startFaultHub({ root, hostsDir, name: 'durability-broker-hub', mqttUrl: mosquitto.url });

    agents.push(
      ...(await Promise.all(
        nodes.map((n) =>
          startLoadAgent({
            node: n.node,
            mqttUrl: mosquitto!.url,
            stateDir: path.join(tmp.path, `agent-${n.node}`),
            events: n.events,
            name: `durability-broker-${n.node}`,
            env: agentEnv,
          }),
        ),
      )),
    );

    const accepted = async () => (await healthz(hub!.httpUrl)).ingest.accepted;
    const crashes: number[] = [];
    for (const fraction of [0.2, 0.5]) {
      const at = await waitFor(
        async () => {
          const n = await accepted();
          return n >= total * fraction ? n : null;
        },
        { timeoutMs: 120_000, intervalMs: 50, what: `${fraction * 100}% of the burst stored` },
      );
      crashes.push(at);
      const offline = () => hub!.proc.output().split('"msg":"mqtt link offline"').length - 1;
      const offlineBefore = offline();
      await mosquitto.kill9();
      // The hub notices before the broker comes back.
      await waitFor(() => offline() > offlineBefore, { timeoutMs: 30_000, what: `the hub noticing the broker is gone (${offlineBefore} before)` });
      await mosquitto.restart();
    }
    expect(crashes.at(-1)!).toBeLessThan(total * 0.9);

    for (const a of agents) await a.waitForOutput(/^acked \d+$/m, 150_000);
    await Promise.all(agents.map((a) => a.stop()));
    const counters = (await healthz(hub.httpUrl)).ingest;
    await waitOfflineLogged(
      root,
      nodes.map((n) => n.node),
    );
    await waitWorldFolded(root);
    await hub.proc.stop();
    const world = await readJson(path.join(root, 'world/services.json'));
    // Mosquitto drops QoS 1 messages for a subscriber whose queue is full (max_queued_messages, default 1000).
    const brokerLog = await fs.readFile(mosquitto.logFile, 'utf8').catch(() => '');
    const dropNotices = brokerLog.split('\n').filter((l) => l.includes('Outgoing messages are being dropped')).length;
    console.log(`stored at the crashes: ${JSON.stringify(crashes)}; ingest at the end: ${JSON.stringify(counters)}; mosquitto drop notices: ${dropNotices}`);

    await expectEveryEventOnce(root, tmp.path, nodes, world);

    await expectReplayIdentical(root, hostsDir, 'durability-broker-replay');
  });
});
