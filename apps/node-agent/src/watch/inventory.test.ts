import { describe, expect, it } from 'vitest';
import { ManualClock, type ServiceSpec } from '@homelab/contracts';
import type { ListedContainer } from '../docker/docker-port';
import { adoptionFacts, InventoryReporter, unmanagedContainers } from './inventory';
import { RecordingSink, silentLog } from '../testing/fakes';

const c = (name: string, state = 'running', labels: Record<string, string> = {}): ListedContainer => ({ name, state, image: `${name}:latest`, labels });
const desired: Record<string, ServiceSpec> = {
  z2m: { monitor: true, containers: ['zigbee2mqtt'] },
  ha: { monitor: false },
  grafana: { monitor: true, compose: { file: '/srv/grafana/compose.yml', project: 'grafana', build: false, command: 'docker-compose' } },
};

describe('unmanagedContainers', () => {
  it('lists containers of no desired service, by name, monitor:false and compose labels counting as desired', () => {
    const all = [
      c('zigbee2mqtt'),
      c('ha'),
      c('grafana_grafana_1', 'running', { 'com.docker.compose.project': 'grafana', 'com.docker.compose.service': 'grafana' }),
      c('portainer'),
      c('old-backup', 'exited'),
    ];
    expect(unmanagedContainers(all, desired)).toEqual({
      unmanaged: [
        { name: 'old-backup', state: 'exited', image: 'old-backup:latest' },
        { name: 'portainer', state: 'running', image: 'portainer:latest' },
      ],
      truncated: false,
    });
  });

  it('leaves out containers labelled homelab.keep=true (the disk_cleanup opt-out)', () => {
    expect(unmanagedContainers([c('agent', 'running', { 'homelab.keep': 'True' }), c('other')], desired).unmanaged.map((u) => u.name)).toEqual(['other']);
  });

  it.each<{ name: string; labels: Record<string, string>; status?: string; expect: object }>([
    {
      name: 'a compose container: project, service, first config file and working dir',
      labels: {
        'com.docker.compose.project': 'media',
        'com.docker.compose.service': 'jellyfin',
        'com.docker.compose.project.config_files': '/opt/stacks/media/docker-compose.yml,/opt/stacks/media/override.yml',
        'com.docker.compose.project.working_dir': '/opt/stacks/media',
        'com.docker.compose.version': '1.29.2',
      },
      status: 'Up 3 minutes (healthy)',
      expect: {
        compose: {
          project: 'media',
          service: 'jellyfin',
          configFile: '/opt/stacks/media/docker-compose.yml',
          workingDir: '/opt/stacks/media',
          version: '1.29.2',
        },
        healthcheck: true,
      },
    },
    { name: 'a standalone container without a healthcheck', labels: {}, status: 'Up 3 minutes', expect: {} },
    { name: 'a healthcheck still starting', labels: {}, status: 'Up 2 seconds (health: starting)', expect: { healthcheck: true } },
    { name: 'the opt-out label', labels: { 'homelab.adopt': 'False' }, status: 'Up 1 hour (unhealthy)', expect: { healthcheck: true, adopt: false } },
    { name: 'a project label without a service label is no compose container', labels: { 'com.docker.compose.project': 'x' }, expect: {} },
    {
      name: 'a config file path too long to send is left out, not cut',
      labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 's', 'com.docker.compose.project.config_files': `/${'a'.repeat(600)}.yml` },
      expect: { compose: { project: 'p', service: 's' } },
    },
  ])('reports what adopt drafts from: $name', ({ labels, status, expect: facts }) => {
    expect(adoptionFacts({ ...c('x', 'running', labels), ...(status ? { status } : {}) })).toEqual(facts);
  });

  it('caps the list at 256 and says so', () => {
    const many = Array.from({ length: 300 }, (_, i) => c(`x${String(i).padStart(3, '0')}`));
    const inv = unmanagedContainers(many, desired);
    expect(inv.unmanaged).toHaveLength(256);
    expect(inv.truncated).toBe(true);
  });
});

describe('InventoryReporter', () => {
  it('reports after start and then only when the unmanaged set changes; nothing before a desired state is known', async () => {
    const sink = new RecordingSink();
    let list = [c('zigbee2mqtt'), c('portainer')];
    let known: Record<string, ServiceSpec> | undefined;
    const r = new InventoryReporter({
      docker: { listAllContainers: async () => list },
      desired: () => known,
      sink,
      clock: new ManualClock(),
      log: silentLog,
      intervalMs: 10_000,
    });
    await r.runOnce();
    expect(sink.drafts).toEqual([]);
    known = desired;
    await r.runOnce();
    await r.runOnce();
    expect(sink.drafts).toEqual([{ type: 'node_inventory', data: { unmanaged: [{ name: 'portainer', state: 'running', image: 'portainer:latest' }] } }]);
    list = [c('zigbee2mqtt')];
    await r.runOnce();
    expect(sink.drafts[1]).toEqual({ type: 'node_inventory', data: { unmanaged: [] } });
  });

  it('reports at once after the first complete scan of each desired revision, carrying session and revision', async () => {
    const sink = new RecordingSink();
    const r = new InventoryReporter({
      docker: { listAllContainers: async () => [c('zigbee2mqtt')] },
      desired: () => desired,
      sink,
      clock: new ManualClock(),
      log: silentLog,
      intervalMs: 10_000,
      session: { session: 4, fromSeq: 200 },
    });
    await r.runOnce();
    expect(sink.drafts).toEqual([{ type: 'node_inventory', data: { unmanaged: [] } }]); // no complete scan yet: no `scan`
    await r.afterScan('rev-a');
    await r.afterScan('rev-a'); // the same revision again: nothing new to say
    await r.runOnce();
    await r.afterScan('rev-b');
    expect(sink.drafts.slice(1)).toEqual([
      { type: 'node_inventory', data: { unmanaged: [], scan: { session: 4, desiredRevision: 'rev-a', sessionFromSeq: 200 } } },
      { type: 'node_inventory', data: { unmanaged: [], scan: { session: 4, desiredRevision: 'rev-b', sessionFromSeq: 200 } } },
    ]);
  });
});
