import { describe, expect, it } from 'vitest';
import { ManualClock, type ProbeSpec } from '@homelab/contracts';
import { ProbeScheduler } from './probe-scheduler';
import type { ProbeOutcome } from './probes';
import { flush, silentLog } from '../testing/fakes';

function setup() {
  const clock = new ManualClock();
  const outcomes = new Map<string, ProbeOutcome>();
  const runs: string[] = [];
  const changes: string[] = [];
  const run = async (p: ProbeSpec) => {
    const key = p.name ?? p.type;
    runs.push(key);
    return outcomes.get(key) ?? { ok: true };
  };
  const s = new ProbeScheduler({ run, clock, log: silentLog, onChange: (svc) => changes.push(svc) });
  return { clock, outcomes, runs, changes, s };
}

const web: ProbeSpec = { type: 'http', name: 'web', url: 'http://127.0.0.1:8080/', interval: '5s' };
const broker: ProbeSpec = { type: 'mqtt', name: 'broker', url: 'mqtt://127.0.0.1:1883', failures: 2 };

describe('ProbeScheduler', () => {
  it('runs new probes at once; the service is unsettled until the first result, which reports a change', async () => {
    const { s, changes, runs } = setup();
    s.sync([{ service: 'z2m', probes: [web] }]);
    expect(s.settled('z2m')).toBe(false);
    await flush();
    expect(runs).toEqual(['web']);
    expect(s.settled('z2m')).toBe(true);
    expect(s.failing('z2m')).toBeUndefined();
    expect(changes).toEqual(['z2m']);
  });

  it('runs each probe again after its interval, timed from the end of the previous run', async () => {
    const { s, runs, clock } = setup();
    s.sync([{ service: 'z2m', probes: [web] }]);
    await flush();
    clock.advance(4_999);
    await flush();
    expect(runs).toHaveLength(1);
    clock.advance(1);
    await flush();
    expect(runs).toHaveLength(2);
  });

  it('a failing probe names itself and its detail; passing again reports a change back', async () => {
    const { s, outcomes, changes, clock } = setup();
    outcomes.set('web', { ok: false, detail: 'status 500' });
    s.sync([{ service: 'z2m', probes: [web] }]);
    await flush();
    expect(s.failing('z2m')).toEqual({ probe: 'web', type: 'http', detail: 'web: status 500' });
    outcomes.set('web', { ok: true });
    clock.advance(5_000);
    await flush();
    expect(s.failing('z2m')).toBeUndefined();
    expect(changes).toEqual(['z2m', 'z2m']);
  });

  it("counts consecutive failures up to the probe's `failures` before it fails", async () => {
    const { s, outcomes, clock } = setup();
    outcomes.set('broker', { ok: false, detail: 'ECONNREFUSED' });
    s.sync([{ service: 'mosquitto', probes: [broker] }]);
    await flush();
    expect(s.failing('mosquitto')).toBeUndefined();
    clock.advance(10_000);
    await flush();
    expect(s.failing('mosquitto')).toMatchObject({ probe: 'broker', type: 'mqtt' });
  });

  it('stops probes that leave the desired state, and restarts changed ones', async () => {
    const { s, runs, clock } = setup();
    s.sync([{ service: 'z2m', probes: [web] }]);
    await flush();
    s.sync([{ service: 'z2m', probes: [{ ...web, interval: '1s' }] }]);
    await flush();
    expect(runs).toHaveLength(2);
    s.sync([]);
    clock.advance(60_000);
    await flush();
    expect(runs).toHaveLength(2);
    expect(s.settled('z2m')).toBe(true);
  });

  it('names unnamed probes <type>-<n> by their position', async () => {
    const { s, outcomes } = setup();
    outcomes.set('tcp', { ok: false, detail: 'ECONNREFUSED' });
    s.sync([
      {
        service: 'db',
        probes: [
          { type: 'http', url: 'http://127.0.0.1/' },
          { type: 'tcp', port: 5432 },
        ],
      },
    ]);
    await flush();
    expect(s.failing('db')).toMatchObject({ probe: 'tcp-2', type: 'tcp' });
  });
});
