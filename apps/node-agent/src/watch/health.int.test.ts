import path from 'node:path';
import Docker from 'dockerode';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { makeTempDir, type MosquittoHandle, shInContainer, startMosquitto, type TempDir, waitFor } from '@homelab/testkit';
import type { NodeAgent } from '../agent';
import { parseAgentConfig } from '../config';
import { runAgent } from '../main';

/**
 * Container-state verdicts on the real engine, driven by the Docker events
 * stream: a Docker healthcheck turning unhealthy and healthy again, and a
 * crash loop under a restart policy (restart_loop, not a restartable stop).
 */
describe('agent verdicts from Docker healthchecks and crash loops on the real engine', () => {
  const node = 'chelsty-infra';
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const checked = `hl-health-checked-${process.pid}`;
  const looping = `hl-health-loop-${process.pid}`;
  let tmp: TempDir;
  let broker: MosquittoHandle;
  let hub: MqttClient;
  let agent: NodeAgent | undefined;
  const events: Array<any & { at: number }> = [];
  const after = (t: number) => events.filter((e) => e.at >= t);

  const sh = (name: string, script: string) => shInContainer(docker, name, script);

  beforeAll(async () => {
    tmp = await makeTempDir('hl-health-int');
    broker = await startMosquitto();
    const c = await docker.createContainer({
      name: checked,
      Image: image,
      Cmd: ['sh', '-c', 'touch /tmp/ok; exec sleep 3600'],
      Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 200e6, Timeout: 1e9, Retries: 1, StartPeriod: 0 },
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    hub = mqtt.connect(broker.url, { clientId: 'homelab-hub', username: 'homelab-hub', reconnectPeriod: 200 });
    hub.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      events.push({ ...body, at: Date.now() });
      hub.publish(topics.acks(node), JSON.stringify({ node, upToSeq: body.seq }), { qos: 1 });
    });
    await hub.subscribeAsync([topics.events(node)], { qos: 1 });
    const services = { checked: { containers: [checked] }, looper: { containers: [looping] } };
    await hub.publishAsync(topics.desired(node), JSON.stringify({ node, revision: 'rev-1', ts: new Date().toISOString(), services }), { qos: 1, retain: true });
    const config = parseAgentConfig(
      { HOMELAB_SCAN_MS: '60000' }, // the events stream, not the periodic scan, must carry these
      { node, 'mqtt-url': broker.url, 'docker-socket': inject('dockerSocket'), 'state-dir': path.join(tmp.path, 'agent') },
    );
    agent = await runAgent(config, createLogger('agent', { level: process.env.LOG_LEVEL ?? 'warn' }));
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.endAsync().catch(() => undefined);
    for (const name of [checked, looping])
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    await broker?.stop();
    await tmp?.cleanup();
  });

  it('a healthcheck turning unhealthy → container_unhealthy; passing again → service_healthy', async () => {
    await waitFor(() => events.find((e) => e.service === 'checked' && e.type === 'service_healthy'), { timeoutMs: 15_000, what: 'checked healthy' });
    const t = Date.now();
    await sh(checked, 'rm -f /tmp/ok');
    const bad = await waitFor(() => after(t).find((e) => e.service === 'checked' && e.type === 'service_unhealthy'), {
      timeoutMs: 15_000,
      what: 'checked unhealthy',
    });
    expect(bad.data).toMatchObject({ reason: 'container_unhealthy', detail: `${checked}: healthcheck unhealthy` });
    const t2 = Date.now();
    await sh(checked, 'touch /tmp/ok');
    await waitFor(() => after(t2).find((e) => e.service === 'checked' && e.type === 'service_healthy'), { timeoutMs: 15_000, what: 'checked healthy again' });
  });

  it('a container crashing under restart policy `always` → restart_loop (a restart would not help)', async () => {
    const t = Date.now();
    const c = await docker.createContainer({
      name: looping,
      Image: image,
      Cmd: ['sh', '-c', 'sleep 0.3; exit 3'],
      HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'always' } },
    });
    await c.start();
    const loop = await waitFor(() => after(t).find((e) => e.service === 'looper' && e.data?.reason === 'restart_loop'), {
      timeoutMs: 20_000,
      what: 'restart_loop',
    });
    expect(loop.type).toBe('service_unhealthy');
    expect(loop.data.detail).toMatch(/restart/);
    await docker.getContainer(looping).update({ RestartPolicy: { Name: 'no' } });
  });
});
