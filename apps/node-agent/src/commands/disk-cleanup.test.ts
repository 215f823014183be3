import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '@homelab/contracts';
import { planCleanup, plannedBytes, previewCleanup, runCleanup } from './disk-cleanup';
import { FakeCleanupDocker } from '../testing/fakes';

const desired: Record<string, ServiceSpec> = {
  z2m: { monitor: true, containers: ['z2m', 'z2m-db'] },
  ha: { monitor: false },
  web: { monitor: true, compose: { file: '/srv/web.yml', project: 'site', service: 'nginx', build: false, command: 'docker-compose' } },
};
const c = (id: string, name: string, labels: Record<string, string> = {}, bytes = 100) => ({ id, name, labels, bytes });

describe('planCleanup', () => {
  it('removes stopped containers of no desired service and keeps labelled ones and those of desired services', () => {
    const plan = planCleanup(
      [
        c('1', 'old-job'),
        c('2', 'z2m-db'),
        c('3', 'ha'),
        c('4', 'site_nginx_1', { 'com.docker.compose.project': 'site', 'com.docker.compose.service': 'nginx' }),
        c('5', 'precious', { 'homelab.keep': 'true' }),
        c('6', 'other_nginx_1', { 'com.docker.compose.project': 'other', 'com.docker.compose.service': 'nginx' }),
      ],
      [
        { id: 'sha256:a', labels: {}, bytes: 1000 },
        { id: 'sha256:b', labels: { 'homelab.keep': 'TRUE' }, bytes: 2000 },
      ],
      desired,
    );
    expect(plan.containers.map((x) => x.name)).toEqual(['old-job', 'other_nginx_1']);
    expect(plan.images.map((x) => x.id)).toEqual(['sha256:a']);
    expect(Object.fromEntries(plan.kept.map((k) => [k.name ?? k.id, k.why]))).toEqual({
      'z2m-db': 'desired service z2m',
      ha: 'desired service ha',
      site_nginx_1: 'desired service web',
      precious: 'label homelab.keep=true',
      'sha256:b': 'label homelab.keep=true',
    });
    expect(plannedBytes(plan)).toBe(1200);
  });
});

describe('runCleanup', () => {
  it('removes containers, then dangling images, prunes the build cache, and totals the bytes reclaimed', async () => {
    const docker = new FakeCleanupDocker();
    docker.stopped = [c('1', 'old-job', {}, 10), c('2', 'z2m', {}, 20)];
    docker.dangling = [
      { id: 'sha256:a', labels: {}, bytes: 1000 },
      { id: 'sha256:used', labels: {}, bytes: 5000 },
    ];
    docker.inUse.add('sha256:used');
    docker.buildCache = { supported: true, bytes: 300 };
    const run = await runCleanup(docker, desired);
    expect(docker.removedContainers).toEqual(['1']);
    expect(docker.removedImages).toEqual(['sha256:a']);
    expect(run.failures).toBe(0);
    expect(run.report.reclaimedBytes).toBe(1310);
    expect(run.report.removed.map((r) => r.kind)).toEqual(['container', 'image', 'build_cache']);
    expect(run.report.kept.map((k) => k.why)).toEqual(['desired service z2m', 'in use or refused']);
    expect(run.lines.at(-1)).toBe('reclaimed 1310 bytes');
  });

  it('goes on without the build cache when the engine does not support pruning it', async () => {
    const docker = new FakeCleanupDocker();
    docker.buildCache = { supported: false, bytes: 0, detail: 'Docker answered 404' };
    const run = await runCleanup(docker, desired);
    expect(run.report.reclaimedBytes).toBe(0);
    expect(run.lines.join('\n')).toContain('build cache not pruned: Docker answered 404');
  });

  it('leaves volumes alone unless asked, and even then keeps labelled ones and those of a desired compose project', async () => {
    const docker = new FakeCleanupDocker();
    docker.volumes = [
      { name: 'scratch', labels: {}, bytes: 400 },
      { name: 'site_data', labels: { 'com.docker.compose.project': 'site' }, bytes: 900 },
      { name: 'backup', labels: { 'homelab.keep': 'true' }, bytes: 700 },
    ];
    await runCleanup(docker, desired);
    expect(docker.removedVolumes).toEqual([]);
    const run = await runCleanup(docker, desired, { removeVolumes: true });
    expect(docker.removedVolumes).toEqual(['scratch']);
    expect(run.report.removed).toContainEqual({ kind: 'volume', id: 'scratch', name: 'scratch', bytes: 400 });
    expect(Object.fromEntries(run.report.kept.map((k) => [k.name, k.why]))).toMatchObject({
      site_data: 'desired service web',
      backup: 'label homelab.keep=true',
    });
  });
});

describe('previewCleanup', () => {
  it('reports what a run would remove and reclaim, and removes nothing', async () => {
    const docker = new FakeCleanupDocker();
    docker.stopped = [c('1', 'old-job', {}, 10), c('2', 'z2m', {}, 20)];
    docker.dangling = [{ id: 'sha256:a', labels: {}, bytes: 1000 }];
    docker.volumes = [{ name: 'scratch', labels: {}, bytes: 400 }];
    const preview = await previewCleanup(docker, desired, { removeVolumes: true });
    expect(preview.report.removed.map((r) => r.name ?? r.id)).toEqual(['old-job', 'sha256:a', 'scratch']);
    expect(preview.report.reclaimedBytes).toBe(1410);
    expect(preview.lines.at(-1)).toBe('would reclaim 1410 bytes, plus the build cache');
    expect([docker.removedContainers, docker.removedImages, docker.removedVolumes]).toEqual([[], [], []]);
  });
});
