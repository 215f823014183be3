import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { topics } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { freePort, makeTempDir, type MosquittoHandle, shInContainer, startMosquitto, type TempDir, waitFor } from '@homelab/testkit';
import type { NodeAgent } from '../agent';
import { parseAgentConfig } from '../config';
import { DockerodePort } from '../docker/docker-dockerode';
import { runAgent } from '../main';

const run = promisify(execFile);

/**
 * Probes, disk rules and the inventory on the real engine: a busybox httpd
 * container on the host network (loopback only), a real Mosquitto as the
 * probed broker, a tmpfs filled by a container through a bind mount, and the
 * real agent (runAgent) reporting to another Mosquitto, where this test plays
 * the hub.
 */
describe('agent probes, disk rules and inventory on the real engine', () => {
  const node = 'piha';
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const image = inject('busyboxImage');
  const web = `hl-probe-web-${process.pid}`;
  const stray = `hl-probe-stray-${process.pid}`;
  const kept = `hl-probe-kept-${process.pid}`;
  let tmp: TempDir;
  let disk: string;
  let broker: MosquittoHandle;
  let probed: MosquittoHandle;
  let hub: MqttClient;
  let agent: NodeAgent | undefined;
  let httpPort: number;
  let closedPort: number;
  const events: Array<any & { at: number }> = [];
  const after = (t: number) => events.filter((e) => e.at >= t);

  const sh = (name: string, script: string) => shInContainer(docker, name, script);
  /** Fills the watched tmpfs to `kib` KiB with a container writing through a bind mount. */
  const fill = async (kib: number) => {
    const c = await docker.createContainer({
      Image: image,
      Cmd: ['sh', '-c', `rm -f /data/fill; dd if=/dev/zero of=/data/fill bs=1024 count=${kib} 2>/dev/null; sync`],
      HostConfig: { NetworkMode: 'none', Binds: [`${disk}:/data`] },
    });
    await c.start();
    await c.wait();
    await c.remove();
  };

  beforeAll(async () => {
    tmp = await makeTempDir('hl-probes-int');
    disk = path.join(tmp.path, 'disk');
    await fs.mkdir(disk);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=1024k', 'tmpfs', disk]);
    [broker, probed] = await Promise.all([startMosquitto(), startMosquitto()]);
    [httpPort, closedPort] = await Promise.all([freePort(), freePort()]);
    const script = `mkdir -p /www && echo 'status: ready' > /www/health && exec httpd -f -p 127.0.0.1:${httpPort} -h /www`;
    await (await docker.createContainer({ name: web, Image: image, Cmd: ['sh', '-c', script], HostConfig: { NetworkMode: 'host' } })).start();
    await (await docker.createContainer({ name: stray, Image: image, Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } })).start();
    await docker.createContainer({ name: kept, Image: image, Cmd: ['true'], Labels: { 'homelab.keep': 'true' }, HostConfig: { NetworkMode: 'none' } });

    hub = mqtt.connect(broker.url, { clientId: 'homelab-hub', username: 'homelab-hub', reconnectPeriod: 200 });
    hub.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      if (topic !== topics.events(node)) return;
      events.push({ ...body, at: Date.now() });
      hub.publish(topics.acks(node), JSON.stringify({ node, upToSeq: body.seq }), { qos: 1 });
    });
    await hub.subscribeAsync([topics.events(node)], { qos: 1 });
    const services = {
      web: {
        containers: [web],
        probes: [
          { type: 'http', name: 'health', url: `http://127.0.0.1:${httpPort}/health`, body: 'ready', interval: '500ms', timeout: '1s' },
          { type: 'tcp', port: httpPort, interval: '500ms', timeout: '1s' },
        ],
      },
      legacy: { containers: [web], probes: [{ type: 'tcp', name: 'closed', host: '127.0.0.1', port: closedPort, interval: '500ms' }] },
      broker: { containers: [web], probes: [{ type: 'mqtt', name: 'mosquitto', url: probed.url, interval: '500ms', timeout: '1s' }] },
    };
    await hub.publishAsync(topics.desired(node), JSON.stringify({ node, revision: 'rev-1', ts: new Date().toISOString(), services }), { qos: 1, retain: true });

    const config = parseAgentConfig(
      {
        HOMELAB_DISK_MOUNTS: disk,
        HOMELAB_DISK_WARN_PERCENT: '50',
        HOMELAB_DISK_HIGH_PERCENT: '80',
        HOMELAB_DISK_HYSTERESIS_PERCENT: '10',
        HOMELAB_DISK_CHECK_MS: '200',
        HOMELAB_SCAN_MS: '1000',
      },
      { node, 'mqtt-url': broker.url, 'docker-socket': inject('dockerSocket'), 'state-dir': path.join(tmp.path, 'agent') },
    );
    agent = await runAgent(config, createLogger('agent', { level: process.env.LOG_LEVEL ?? 'warn' }));
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.endAsync().catch(() => undefined);
    for (const name of [web, stray, kept])
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => undefined);
    await broker?.stop();
    await probed?.stop();
    if (disk) await run('umount', [disk]).catch(() => undefined);
    await tmp?.cleanup();
  });

  // `service_starting` (a probe without its first result) is no verdict.
  const verdict = (service: string, since = 0) =>
    waitFor(
      () =>
        after(since)
          .filter((e) => e.service === service && e.type.startsWith('service_') && e.type !== 'service_starting')
          .at(-1),
      {
        timeoutMs: 15_000,
        what: `a verdict on ${service}`,
      },
    );

  it('http (status + body) and tcp probes pass: service_healthy', async () => {
    await waitFor(() => events.find((e) => e.type === 'service_healthy' && e.service === 'web'), { timeoutMs: 15_000, what: 'web healthy' });
  });

  it('a tcp probe to a closed port: service_unhealthy probe_failed naming the probe', async () => {
    const e = await verdict('legacy');
    expect(e).toMatchObject({ type: 'service_unhealthy', data: { reason: 'probe_failed', probe: 'closed' } });
    expect(e.data.detail).toContain('ECONNREFUSED');
  });

  it('the http body no longer matches: probe_failed naming the http probe; healthy again when it matches', async () => {
    const t = Date.now();
    await sh(web, "echo 'status: starting' > /www/health");
    const bad = await waitFor(() => after(t).find((e) => e.service === 'web' && e.type === 'service_unhealthy'), { timeoutMs: 10_000, what: 'web unhealthy' });
    expect(bad.data).toMatchObject({ reason: 'probe_failed', probe: 'health' });
    expect(bad.data.detail).toContain('body does not contain "ready"');
    const t2 = Date.now();
    await sh(web, "echo 'status: ready' > /www/health");
    await waitFor(() => after(t2).find((e) => e.service === 'web' && e.type === 'service_healthy'), { timeoutMs: 10_000, what: 'web healthy again' });
  });

  it('an mqtt probe: healthy while the broker answers, mqtt_unreachable when it stops', async () => {
    expect((await verdict('broker')).type).toBe('service_healthy');
    const t = Date.now();
    await probed.stop();
    const e = await waitFor(() => after(t).find((x) => x.service === 'broker' && x.type === 'service_unhealthy'), {
      timeoutMs: 10_000,
      what: 'broker unhealthy',
    });
    expect(e.data).toMatchObject({ reason: 'mqtt_unreachable', probe: 'mosquitto' });
    console.log(`mqtt probe: service_unhealthy ${e.at - t} ms after the broker was stopped (interval 500 ms)`);
    await probed.restart();
    await waitFor(() => after(t).find((x) => x.service === 'broker' && x.type === 'service_healthy'), { timeoutMs: 10_000, what: 'broker healthy again' });
  });

  it('disk: first reading disk_ok, then warn, high, and back down only past the hysteresis', async () => {
    const first = await waitFor(() => events.find((e) => e.data?.mount === disk), { timeoutMs: 10_000, what: 'first disk reading' });
    expect(first).toMatchObject({ type: 'disk_ok' });
    const level = (t: number, want: string) =>
      waitFor(() => after(t).find((e) => e.data?.mount === disk && (e.type === 'disk_ok' ? 'ok' : e.data.level) === want), {
        timeoutMs: 10_000,
        what: `disk ${want}`,
      });
    let t = Date.now();
    await fill(600); // ~59 %
    expect((await level(t, 'warn')).data.usedPercent).toBeGreaterThanOrEqual(50);
    t = Date.now();
    await fill(900); // ~88 %
    const high = await level(t, 'high');
    expect(high.data.freeBytes).toBeLessThan(200 * 1024);
    t = Date.now();
    await fill(750); // ~73 %: above high - hysteresis (70): stays high
    await new Promise((r) => setTimeout(r, 1000));
    expect(after(t).filter((e) => e.data?.mount === disk)).toEqual([]);
    await fill(100); // ~10 %
    await level(t, 'ok');
    expect(agent!.snapshot()!.disks).toEqual({ [disk]: 'ok' });
  });

  it('inventory: a container of no desired service is reported unmanaged; homelab.keep=true opts out', async () => {
    const inv = await waitFor(() => events.filter((e) => e.type === 'node_inventory').at(-1), { timeoutMs: 10_000, what: 'node_inventory' });
    const names = inv.data.unmanaged.map((u: { name: string }) => u.name);
    expect(names).toContain(stray);
    expect(names).not.toContain(kept);
    expect(names).not.toContain(web);
    const t = Date.now();
    await docker.getContainer(stray).remove({ force: true });
    const gone = (e: any) => e.type === 'node_inventory' && !e.data.unmanaged.some((u: { name: string }) => u.name === stray);
    await waitFor(() => after(t).find(gone), { timeoutMs: 10_000, what: 'inventory without the removed container' });
  });

  it('the Docker data-root is known to the agent for its default disk watch', async () => {
    const root = await new DockerodePort(docker).dataRoot();
    expect(root).toMatch(/^\//);
    await fs.access(root!);
  });
});
