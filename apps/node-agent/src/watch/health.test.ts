import { describe, expect, it } from 'vitest';
import type { ContainerObservation } from '@homelab/contracts';
import { assessService } from './health';

const svc = { name: 'z2m', containers: ['z2m', 'z2m-db'] };
const running = (name: string, extra: Partial<ContainerObservation> = {}): ContainerObservation => ({ name, state: 'running', restartCount: 0, ...extra });

describe('assessService', () => {
  it.each([
    { why: 'all running, no healthcheck', obs: [running('z2m'), running('z2m-db')], status: 'healthy', reason: undefined },
    { why: 'all running and healthy', obs: [running('z2m', { health: 'healthy' }), running('z2m-db')], status: 'healthy', reason: undefined },
    { why: 'one container missing', obs: [running('z2m')], status: 'unhealthy', reason: 'containers_not_running' },
    { why: 'one container exited', obs: [running('z2m'), { name: 'z2m-db', state: 'exited' }], status: 'unhealthy', reason: 'containers_not_running' },
    { why: 'one container paused', obs: [running('z2m'), { name: 'z2m-db', state: 'paused' }], status: 'unhealthy', reason: 'containers_not_running' },
    {
      why: 'one container created, never started',
      obs: [running('z2m'), { name: 'z2m-db', state: 'created' }],
      status: 'unhealthy',
      reason: 'containers_not_running',
    },
    {
      why: 'one container restarting',
      obs: [{ name: 'z2m', state: 'restarting', restartCount: 7 }, running('z2m-db')],
      status: 'unhealthy',
      reason: 'restart_loop',
    },
    { why: 'restarting wins over missing', obs: [{ name: 'z2m', state: 'restarting' }], status: 'unhealthy', reason: 'restart_loop' },
    { why: 'healthcheck unhealthy', obs: [running('z2m', { health: 'unhealthy' }), running('z2m-db')], status: 'unhealthy', reason: 'container_unhealthy' },
    {
      why: 'not running wins over unhealthy',
      obs: [running('z2m', { health: 'unhealthy' }), { name: 'z2m-db', state: 'exited' }],
      status: 'unhealthy',
      reason: 'containers_not_running',
    },
    {
      why: 'healthcheck starting (start period): running, no verdict yet',
      obs: [running('z2m', { health: 'starting' }), running('z2m-db')],
      status: 'starting',
      reason: undefined,
    },
    {
      why: 'unhealthy wins over starting',
      obs: [running('z2m', { health: 'starting' }), running('z2m-db', { health: 'unhealthy' })],
      status: 'unhealthy',
      reason: 'container_unhealthy',
    },
  ] as const)('$why → $status $reason', ({ obs, status, reason }) => {
    const a = assessService(svc, obs);
    expect(a.status).toBe(status);
    expect(a.reason).toBe(reason);
  });

  it('names the containers at fault in the detail and reports every container in spec order', () => {
    const a = assessService(svc, [{ name: 'z2m-db', state: 'exited' }]);
    expect(a.detail).toBe('z2m: missing; z2m-db: exited');
    expect(a.containers.map((c) => c.name)).toEqual(['z2m', 'z2m-db']);
    expect(a.containers[0]).toEqual({ name: 'z2m', state: 'missing' });
  });

  it('ignores observations of containers that are not part of the service', () => {
    const a = assessService({ name: 'solo', containers: ['solo'] }, [running('solo'), { name: 'other', state: 'exited' }]);
    expect(a).toEqual({ status: 'healthy', containers: [running('solo')] });
  });

  it('keeps the detail within the event limit', () => {
    const names = Array.from({ length: 32 }, (_, i) => `a-very-long-container-name-number-${i}`);
    const a = assessService({ name: 'big', containers: names }, []);
    expect(a.detail!.length).toBeLessThanOrEqual(500);
  });
});

describe('assessService with probes and crash loops', () => {
  const solo = { name: 'mosquitto', containers: ['mosquitto'] };
  const up = [running('mosquitto')];

  it('a failing mqtt probe → mqtt_unreachable, naming the probe', () => {
    const a = assessService(solo, up, { probe: { probe: 'broker', type: 'mqtt', detail: 'broker: ECONNREFUSED' }, probesSettled: true });
    expect(a).toMatchObject({ status: 'unhealthy', reason: 'mqtt_unreachable', probe: 'broker', detail: 'broker: ECONNREFUSED' });
  });

  it.each(['tcp', 'http'] as const)('a failing %s probe → probe_failed', (type) => {
    const a = assessService(solo, up, { probe: { probe: `${type}-1`, type, detail: 'x' } });
    expect(a).toMatchObject({ status: 'unhealthy', reason: 'probe_failed', probe: `${type}-1` });
  });

  it('the container state decides before any probe', () => {
    const a = assessService(solo, [{ name: 'mosquitto', state: 'exited' }], { probe: { probe: 'broker', type: 'mqtt', detail: 'x' } });
    expect(a).toMatchObject({ reason: 'containers_not_running' });
    expect(a.probe).toBeUndefined();
  });

  it('a probe without its first result leaves a healthy-looking service starting', () => {
    expect(assessService(solo, up, { probesSettled: false }).status).toBe('starting');
  });

  it('a restart burst → restart_loop even while the container is running between restarts', () => {
    const a = assessService(solo, up, { crashLoops: new Map([['mosquitto', 3]]) });
    expect(a).toMatchObject({ status: 'unhealthy', reason: 'restart_loop', detail: 'mosquitto: 3 restarts in a burst (running)' });
  });
});
