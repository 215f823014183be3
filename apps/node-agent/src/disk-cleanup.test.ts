import { describe, expect, it } from 'vitest';
import type { ServiceSpec } from '@homelab/contracts';
import { planCleanup, plannedBytes, runCleanup } from './disk-cleanup';
import { FakeCleanupDocker } from './testing/fakes';

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
    docker.dangling = [{ id: 'sha256:a', labels: {}, bytes: 1000 }, { id: 'sha256:used', labels: {}, bytes: 5000 }];
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
});
