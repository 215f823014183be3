import path from 'node:path';
import { afterAll, describe, expect, it, onTestFailed } from 'vitest';
import { freePort, makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import {
  expectEveryEventOnce,
  expectReplayIdentical,
  type FaultHub,
  healthz,
  kill9,
  startFaultHub,
  startLoadAgent,
  waitOfflineLogged,
  waitWorldFolded,
} from '../support/fault';
import { readEvents, readJson, writeHosts } from '../support/stack';

/**
 * docs/reliability.md, "Hub crash": kill -9 of the hub (with its embedded
 * broker) in the middle of a 20,000-event burst from three real agents, then a
 * restart on the same ports. The agents keep spooling into their outboxes,
 * reconnect and resend everything the hub had not acked after its fdatasync.
 */
describe('hub killed with -9 in the middle of a 20,000-event burst (embedded broker)', () => {
  const nodes = [
    { node: 'load-a', events: 6667 },
    { node: 'load-b', events: 6667 },
    { node: 'load-c', events: 6666 },
  ];
  const total = nodes.reduce((n, x) => n + x.events, 0);
  const agentEnv = { HOMELAB_ACK_TIMEOUT_MS: '5000' };
  let tmp: TempDir;
  let root: string;
  let hostsDir: string;
  let hub: FaultHub | undefined;
  const agents: LoggedProcess[] = [];
  let failed = false;

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await hub?.proc.stop();
    // A failed run keeps its data root and agent state dirs for the post-mortem.
    if (failed) console.log(`kept for inspection: ${tmp?.path}`);
    else await tmp?.cleanup();
  });

  it('loses nothing, doubles nothing, and the world equals a replay', async () => {
    onTestFailed(() => {
      failed = true;
    });
    tmp = await makeTempDir('hl-dur-hub-');
    root = path.join(tmp.path, 'root');
    hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: 'node: piha\nservices: {}\n' });
    // The agents start first and spool their whole burst while the hub is not there yet, so
    // that when it comes up 20,000 events rush at it at once: the agents publish far ahead of
    // the hub's acks (aedes PUBACKs before the hub has written anything), so at the kill
    // thousands of events sit between the broker's ack and the log append.
    const ports = { http: await freePort(), mqtt: await freePort() };
    const mqttUrl = `mqtt://127.0.0.1:${ports.mqtt}`;
    agents.push(
      ...(await Promise.all(
        nodes.map((n) =>
          startLoadAgent({
            node: n.node,
            mqttUrl,
            stateDir: path.join(tmp.path, `agent-${n.node}`),
            events: n.events,
            name: `durability-hub-kill-${n.node}`,
            env: agentEnv,
            hubRoot: root,
          }),
        ),
      )),
    );
    for (const a of agents) await a.waitForOutput(/^emitted-all \d+$/m, 120_000);

    hub = await startFaultHub({ root, hostsDir, name: 'durability-hub-kill-hub-1', ports });
    const before = await waitFor(
      async () => {
        const h = await healthz(hub!.httpUrl);
        return h.ingest.accepted >= total * 0.25 ? h.ingest : null;
      },
      { timeoutMs: 90_000, intervalMs: 20, what: 'a quarter of the burst stored' },
    );
    await kill9(hub.proc);
    // What the killed hub had made durable: mid-burst, far from all.
    const durableAtKill = (await Promise.all(nodes.map((n) => readEvents(root, n.node)))).reduce((sum, l) => sum + l.length, 0);
    expect(durableAtKill).toBeGreaterThanOrEqual(before.accepted);
    expect(durableAtKill).toBeLessThan(total * 0.8);

    // Every agent that got connected notices (a second "retrying" warning: the first was before
    // the hub ever ran); one still waiting for its first connection just keeps retrying.
    for (const a of agents) {
      if (!a.output().includes('"msg":"mqtt connected"')) continue;
      // "mqtt error; retrying …" (the wording of the backoff changed; either one counts).
      await waitFor(() => (a.output().match(/mqtt error; retrying/g) ?? []).length >= 2, { timeoutMs: 30_000, what: 'the agent noticing the hub is gone' });
    }

    hub = await startFaultHub({ root, hostsDir, name: 'durability-hub-kill-hub-2', ports: hub.ports });
    for (const a of agents) await a.waitForOutput(/^acked \d+$/m, 150_000);

    // Stop the agents first (their offline status is logged too), then let the observer catch up.
    await Promise.all(agents.map((a) => a.stop()));
    const after = (await healthz(hub.httpUrl)).ingest;
    await waitOfflineLogged(
      root,
      nodes.map((n) => n.node),
    );
    await waitWorldFolded(root);
    await hub.proc.stop();
    const world = await readJson(path.join(root, 'world/services.json'));

    await expectEveryEventOnce(root, tmp.path, nodes, world);
    console.log(`durable at the kill: ${durableAtKill} (ingest said ${before.accepted}); after the restart: ${JSON.stringify(after)}`);

    await expectReplayIdentical(root, hostsDir, 'durability-hub-kill-replay');
  });
});
