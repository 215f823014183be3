import { describe, expect, it } from 'vitest';
import { pendingAction } from '@homelab/action-store/testing';
import type { HostServicesFile } from '@homelab/contracts';
import { manualAction, type ManualInput } from './manual-action';

const compose = { file: '/opt/stacks/web/docker-compose.yml', project: 'web', build: false, command: 'docker-compose' as const };
const desired: Record<string, HostServicesFile> = {
  piha: {
    node: 'piha',
    diskCleanup: { volumes: true },
    services: { web: { monitor: true, compose }, z2m: { monitor: true }, ha: { monitor: false } },
  },
};
const now = new Date('2026-12-01T10:00:00.000Z');
const input = (request: ManualInput['request'], over: Partial<ManualInput> = {}): ManualInput => ({
  request,
  desired,
  actions: [],
  now,
  by: 'alice',
  via: 'cli',
  from: { ip: '127.0.0.1' },
  ...over,
});

describe('manualAction', () => {
  it.each([
    { type: 'container_restart' as const, service: 'z2m', id: 'container-restart-piha-z2m', risk: 'low' },
    { type: 'redeploy' as const, service: 'web', id: 'redeploy-piha-web', risk: 'guarded' },
    { type: 'disk_cleanup' as const, service: undefined, id: 'disk-cleanup-piha', risk: 'guarded' },
  ])('proposes $type as a pending action with the supervisor’s id and risk, and the proposer in its audit', ({ type, service, id, risk }) => {
    const out = manualAction(input({ type, node: 'piha', ...(service ? { service } : {}), note: 'after the update' }));
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.action).toMatchObject({ id, type, risk, state: 'pending', drift: { type: 'operator_request', eventIds: [] } });
    expect(out.action.audit).toEqual([
      { at: now.toISOString(), state: 'pending', by: 'alice', via: 'cli', note: 'after the update', from: { ip: '127.0.0.1' } },
    ]);
    expect(out.action.summary).toContain('requested by alice (cli): after the update');
  });

  it('carries the node’s volume setting into a disk cleanup, as the supervisor does', () => {
    const out = manualAction(input({ type: 'disk_cleanup', node: 'piha' }));
    expect(out.ok && out.action.removeVolumes).toBe(true);
  });

  it.each([
    { name: 'a node without services.yaml', request: { type: 'container_restart' as const, node: 'nas', service: 'x' }, code: 'not_found' },
    { name: 'a service outside desired state', request: { type: 'container_restart' as const, node: 'piha', service: 'nope' }, code: 'not_found' },
    { name: 'a monitor: false service', request: { type: 'container_restart' as const, node: 'piha', service: 'ha' }, code: 'invalid_request' },
    { name: 'a redeploy without compose settings', request: { type: 'redeploy' as const, node: 'piha', service: 'z2m' }, code: 'invalid_request' },
    { name: 'a restart without a service', request: { type: 'container_restart' as const, node: 'piha' }, code: 'invalid_request' },
    { name: 'a disk cleanup with a service', request: { type: 'disk_cleanup' as const, node: 'piha', service: 'web' }, code: 'invalid_request' },
  ])('refuses $name ($code)', ({ request, code }) => {
    const out = manualAction(input(request));
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.code).toBe(code);
  });

  it.each(['pending', 'approved', 'running'] as const)('refuses while another action of the service is %s (one live action per service)', (state) => {
    const live = pendingAction('redeploy-piha-z2m', { type: 'redeploy', service: 'z2m', state });
    const out = manualAction(input({ type: 'container_restart', node: 'piha', service: 'z2m' }, { actions: [live] }));
    expect(out).toMatchObject({ ok: false, code: 'conflict' });
  });

  it('proposes again once the earlier action of the same id has ended', () => {
    const ended = pendingAction('container-restart-piha-z2m', { service: 'z2m', state: 'completed' });
    expect(manualAction(input({ type: 'container_restart', node: 'piha', service: 'z2m' }, { actions: [ended] })).ok).toBe(true);
  });
});
