import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { makeTempDir, startMosquitto, waitFor, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { NodeAgent } from '../agent';
import { parseAgentConfig } from '../config';
import { connectMqttJs } from './mqtt-link';
import { FakeDocker } from '../testing/fakes';
import { HubSim } from '../testing/hub-sim';

const log = createLogger('gap-int', { level: process.env.LOG_LEVEL ?? 'warn' });

/**
 * A broker that silently drops QoS 1 (Mosquitto beyond max_queued_messages
 * of a subscriber) in front of a slow hub. Without prevSeq the hub would
 * write a later event and its cumulative ack would confirm the dropped ones;
 * with it, the hub refuses the event after a hole with a gap ack and the
 * agent resends from there.
 */
describe('events through a broker that drops QoS 1 (max_queued_messages 10, slow hub)', () => {
  let tmp: TempDir;
  let mosquitto: MosquittoHandle;
  let hub: HubSim;
  let agent: NodeAgent | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-gap-int');
    mosquitto = await startMosquitto({ extraConfig: 'max_queued_messages 10' });
    hub = await HubSim.start(mosquitto.url, { slowMs: 0.5 });
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.close();
    await mosquitto?.stop();
    await tmp?.cleanup();
  });

  it('a burst of 3000: the broker drops hundreds, the hub refuses after each hole, 0 lost, each seq written once, in order', async () => {
    const node = 'lossy';
    // A long ack timeout: recovery must come from the gap acks, not from the timeout's resend.
    const config = parseAgentConfig(
      { HOMELAB_ACK_TIMEOUT_MS: '120000', HOMELAB_SCAN_MS: '60000', HOMELAB_HEARTBEAT_MS: '600000' },
      {
        node,
        'mqtt-url': mosquitto.url,
        'state-dir': path.join(tmp.path, node),
      },
    );
    agent = new NodeAgent({ config, log: log.child({ node }), clock: systemClock, docker: new FakeDocker(), connectMqtt: connectMqttJs });
    await agent.start();
    await waitFor(() => agent!.snapshot()!.connected && agent!.snapshot()!.outbox.entries === 0, { what: 'connected, acked' });

    const t0 = performance.now();
    const burst = await Promise.all(Array.from({ length: 3000 }, (_, i) => agent!.emit({ type: 'node_heartbeat', data: { services: i } })));
    expect(burst.every((e) => e !== null)).toBe(true);
    await waitFor(() => agent!.snapshot()!.outbox.entries === 0, { timeoutMs: 60_000, intervalMs: 20, what: 'burst written and acked' });
    const ms = performance.now() - t0;

    const seqs = burst.map((e) => e!.seq);
    const got = new Set(hub.written(node));
    expect(seqs.filter((s) => !got.has(s))).toEqual([]); // 0 lost
    // The hub's log from the burst on: exactly the burst, each seq once, in seq order.
    expect(hub.written(node).filter((s) => s >= seqs[0]!)).toEqual(seqs);
    expect(hub.events(node).every((e) => typeof e.prevSeq === 'number' && e.prevSeq < e.seq)).toBe(true);
    const stats = agent.snapshot()!.publisher;
    // The broker really dropped events (else this test proves nothing), and the gap acks healed it.
    expect(hub.refused).toBeGreaterThan(0);
    expect(stats.gapRewinds).toBeGreaterThan(0);
    expect(stats.gapRewinds).toBeLessThan(stats.gapAcks); // coalesced
    expect(stats.resends).toBe(0);
    const arrivals = hub.events(node).length;
    console.log(
      `gap: 3000 events through max_queued_messages 10 in ${ms.toFixed(0)} ms; ${arrivals} arrivals at the hub, ` +
        `${hub.refused} refused (gap acks), agent: ${stats.gapAcks} gap acks received, ${stats.gapRewinds} rewinds`,
    );
  });
});
