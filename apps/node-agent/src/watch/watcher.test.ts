import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '@homelab/contracts';
import type { WatchedService } from './health';
import { FakeDocker, RecordingSink, flush, silentLog } from '../testing/fakes';
import { ProbeScheduler } from './probe-scheduler';
import { ServiceWatcher } from './watcher';

describe('ServiceWatcher', () => {
  let docker: FakeDocker;
  let sink: RecordingSink;
  let clock: ManualClock;
  let services: WatchedService[];
  let w: ServiceWatcher;

  beforeEach(() => {
    docker = new FakeDocker();
    sink = new RecordingSink();
    clock = new ManualClock();
    services = [
      { name: 'z2m', containers: ['z2m'] },
      { name: 'mqtt', containers: ['mqtt'] },
    ];
    docker.set('z2m', 'running');
    docker.set('mqtt', 'running');
    w = new ServiceWatcher({ docker, services: () => services, sink, clock, log: silentLog, scanMs: 10_000, heartbeatMs: 30_000 });
  });

  it('reports every service once on the first scan, plus a node heartbeat', async () => {
    await w.runOnce();
    expect(sink.types()).toEqual(['service_healthy:z2m', 'service_healthy:mqtt', 'node_heartbeat']);
    expect(sink.drafts[2]).toMatchObject({ data: { services: 2 } });
  });

  it('emits nothing while nothing changes', async () => {
    await w.runOnce();
    sink.clear();
    clock.advance(10_000);
    await w.runOnce();
    expect(sink.drafts).toEqual([]);
  });

  it('reports a stopped container as service_unhealthy containers_not_running, and healthy again on recovery', async () => {
    await w.runOnce();
    sink.clear();
    docker.set('z2m', 'exited');
    await w.runOnce();
    expect(sink.drafts).toEqual([
      {
        type: 'service_unhealthy',
        service: 'z2m',
        data: { reason: 'containers_not_running', detail: 'z2m: exited', containers: [{ name: 'z2m', state: 'exited', restartCount: 0 }] },
      },
    ]);
    sink.clear();
    docker.set('z2m', 'running');
    await w.runOnce();
    expect(sink.types()).toEqual(['service_healthy:z2m']);
  });

  it('emits again when the reason changes while unhealthy', async () => {
    docker.set('z2m', 'exited');
    await w.runOnce();
    sink.clear();
    docker.set('z2m', 'restarting', { restartCount: 5 });
    await w.runOnce();
    expect(sink.drafts[0]).toMatchObject({ type: 'service_unhealthy', data: { reason: 'restart_loop' } });
  });

  it('reports a service whose healthcheck is still in its start period as starting, then its verdict', async () => {
    docker.set('z2m', 'running', { health: 'starting' });
    await w.runOnce();
    expect(sink.types()).toEqual(['service_starting:z2m', 'service_healthy:mqtt', 'node_heartbeat']);
    expect(sink.drafts[0]).toEqual({
      type: 'service_starting',
      service: 'z2m',
      data: { containers: [{ name: 'z2m', state: 'running', health: 'starting', restartCount: 0 }] },
    });
    sink.clear();
    await w.runOnce();
    expect(sink.drafts).toEqual([]);
    docker.set('z2m', 'running', { health: 'healthy' });
    await w.runOnce();
    expect(sink.types()).toEqual(['service_healthy:z2m']);
  });

  it("after each complete scan, passes on the desired revision it covered, after the scan's events", async () => {
    let revision: string | null = null;
    const scanned: string[] = [];
    w = new ServiceWatcher({
      docker,
      services: () => services,
      sink,
      clock,
      log: silentLog,
      scanMs: 10_000,
      heartbeatMs: 30_000,
      desiredRevision: () => revision,
      onScanned: async (rev) => {
        scanned.push(`${rev} after ${sink.drafts.length} events`);
      },
    });
    await w.runOnce();
    expect(scanned).toEqual([]); // no desired state yet: nothing to vouch for
    revision = 'r1';
    await w.runOnce();
    expect(scanned).toEqual(['r1 after 3 events']);
    docker.set('z2m', 'exited');
    sink.failing = true;
    await w.runOnce();
    expect(scanned).toEqual(['r1 after 3 events']); // an event was not sent: no complete scan
    sink.failing = false;
    await w.runOnce();
    expect(sink.types().slice(-1)).toEqual(['service_unhealthy:z2m']); // sent again
    expect(scanned).toEqual(['r1 after 3 events', 'r1 after 5 events']);
    docker.reachable = false;
    await w.runOnce();
    expect(scanned).toHaveLength(2); // Docker did not answer: no complete scan
  });

  it('repeats the current state with heartbeat=true every heartbeatMs', async () => {
    docker.set('mqtt', 'exited');
    await w.runOnce();
    sink.clear();
    clock.advance(30_000);
    await w.runOnce();
    expect(sink.types()).toEqual(['service_healthy:z2m', 'service_unhealthy:mqtt', 'node_heartbeat']);
    expect(sink.drafts[0]).toMatchObject({ data: { heartbeat: true } });
    expect(sink.drafts[1]).toMatchObject({ data: { heartbeat: true, reason: 'containers_not_running' } });
  });

  it('rescans in full once the event stream is open, and again whenever it reopens', async () => {
    await w.runOnce();
    await flush();
    expect(docker.subscribers()).toBe(1);
    const before = w.scans;
    clock.advance(20);
    await flush();
    expect(w.scans).toBe(before + 1);
  });

  it('scans at once after a Docker event of a watched container, and the rest of its burst once, 20 ms after', async () => {
    await w.runOnce();
    await flush();
    expect(docker.subscribers()).toBe(1);
    clock.advance(20); // the resync after subscribing
    await flush();
    clock.advance(100); // a quiet spell
    sink.clear();
    docker.set('z2m', 'exited');
    const before = w.scans;
    docker.fire({ name: 'z2m', action: 'die' });
    clock.advance(0);
    expect(w.scans).toBe(before + 1);
    docker.fire({ name: 'z2m', action: 'stop' });
    docker.fire({ name: 'unrelated', action: 'die' });
    await flush();
    clock.advance(19);
    await flush();
    expect(w.scans).toBe(before + 1);
    clock.advance(1);
    await flush();
    expect(w.scans).toBe(before + 2);
    expect(sink.types()).toEqual(['service_unhealthy:z2m']);
  });

  it('reports docker_unreachable once, retries with backoff, and docker_reachable when back', async () => {
    await w.runOnce();
    sink.clear();
    docker.reachable = false;
    w.start();
    await flush();
    clock.advance(1_000);
    await flush();
    clock.advance(2_000);
    await flush();
    expect(sink.types().filter((t) => t === 'docker_unreachable')).toHaveLength(1);
    expect(w.scans).toBeGreaterThanOrEqual(4);
    docker.reachable = true;
    clock.advance(4_000);
    await flush();
    expect(sink.types()).toContain('docker_reachable');
    expect(sink.drafts.find((d) => d.type === 'docker_reachable')).toMatchObject({ data: { version: '99.0-fake' } });
    await w.stop();
  });

  it('turns a failing declared probe into service_unhealthy naming the probe, and healthy again when it passes', async () => {
    let ok = true;
    const probes = new ProbeScheduler({
      run: async () => (ok ? { ok: true } : { ok: false, detail: 'ECONNREFUSED' }),
      clock,
      log: silentLog,
      onChange: () => w.kick(),
    });
    w = new ServiceWatcher({ docker, services: () => services, sink, clock, log: silentLog, scanMs: 10_000, heartbeatMs: 30_000, probes });
    services = [{ name: 'mqtt', containers: ['mqtt'], probes: [{ type: 'mqtt', name: 'broker', url: 'mqtt://127.0.0.1:1883', interval: '1s' }] }];
    await w.runOnce(); // starts the probe; starting until its first result
    expect(sink.types()).toEqual(['service_starting:mqtt', 'node_heartbeat']);
    await flush();
    clock.advance(20);
    await flush();
    expect(sink.types()).toEqual(['service_starting:mqtt', 'node_heartbeat', 'service_healthy:mqtt']);
    sink.clear();
    ok = false;
    clock.advance(1_000);
    await flush();
    clock.advance(20);
    await flush();
    expect(sink.drafts).toEqual([
      {
        type: 'service_unhealthy',
        service: 'mqtt',
        data: {
          reason: 'mqtt_unreachable',
          detail: 'broker: ECONNREFUSED',
          probe: 'broker',
          containers: [{ name: 'mqtt', state: 'running', restartCount: 0 }],
        },
      },
    ]);
    await w.stop();
  });

  it('reports a restart burst (Docker restart policy) as restart_loop', async () => {
    await w.runOnce();
    sink.clear();
    for (const n of [1, 2, 3]) {
      docker.set('z2m', 'running', { restartCount: n });
      clock.advance(1_000);
      await w.runOnce();
    }
    expect(sink.drafts).toMatchObject([{ type: 'service_unhealthy', service: 'z2m', data: { reason: 'restart_loop' } }]);
  });

  it('forgets services that leave the desired state and reports new ones', async () => {
    await w.runOnce();
    sink.clear();
    services = [
      { name: 'z2m', containers: ['z2m'] },
      { name: 'new', containers: ['new'] },
    ];
    await w.runOnce();
    expect(sink.types()).toEqual(['service_unhealthy:new']);
    expect([...w.states().keys()].sort()).toEqual(['new', 'z2m']);
  });
});
