import { describe, expect, it } from 'vitest';
import { emptyWorld, topics, type World } from '@homelab/contracts';
import { ServiceStatePublisher } from './service-state-publisher';

const worldWith = (status: 'healthy' | 'unhealthy'): World => {
  const w = emptyWorld();
  w.services['piha/z2m'] = {
    node: 'piha',
    service: 'z2m',
    status,
    since: '2026-03-01T10:00:00.000Z',
    lastSeen: '2026-03-01T10:00:01.000Z',
    lastEventId: 'piha-1',
    lastSeq: 1,
    problemEventIds: [],
  };
  return w;
};

describe('ServiceStatePublisher', () => {
  it('publishes nothing before the link is up, then the whole current world at once', async () => {
    const out: { topic: string; payload: unknown }[] = [];
    const p = new ServiceStatePublisher(async (topic, payload) => void out.push({ topic, payload }));
    await p.sync(worldWith('unhealthy'));
    expect(out).toEqual([]);
    await p.linkUp(worldWith('healthy'));
    expect(out).toEqual([
      {
        topic: topics.serviceState('piha', 'z2m'),
        payload: { node: 'piha', service: 'z2m', status: 'healthy', reason: null, since: '2026-03-01T10:00:00.000Z' },
      },
    ]);
    await p.sync(worldWith('healthy'));
    expect(out).toHaveLength(1);
  });

  it('publishes everything again when the link comes up anew, although nothing changed', async () => {
    const out: string[] = [];
    const p = new ServiceStatePublisher(async (topic) => void out.push(topic));
    await p.linkUp(worldWith('healthy'));
    await p.linkUp(worldWith('healthy'));
    expect(out).toEqual([topics.serviceState('piha', 'z2m'), topics.serviceState('piha', 'z2m')]);
  });

  it('clears the retained state of a service that left the world', async () => {
    const out: { topic: string; payload: unknown }[] = [];
    const p = new ServiceStatePublisher(async (topic, payload) => void out.push({ topic, payload }));
    await p.linkUp(worldWith('healthy'));
    await p.sync(emptyWorld());
    expect(out.at(-1)).toEqual({ topic: topics.serviceState('piha', 'z2m'), payload: '' });
  });
});

describe('ServiceStatePublisher while a pass waits for the broker', () => {
  it('runs no two passes at once: calls meanwhile give one more pass with the latest world, and each change goes out once', async () => {
    const out: string[] = [];
    const acks: Array<() => void> = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const p = new ServiceStatePublisher(async (_topic, payload) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise<void>((resolve) => acks.push(resolve));
      inFlight--;
      out.push((payload as { status: string }).status);
    });
    const first = p.linkUp(worldWith('healthy'));
    const calls = [p.sync(worldWith('unhealthy')), p.sync(worldWith('healthy')), p.sync(worldWith('unhealthy'))];
    // Acknowledge every publish as it comes, until all callers are done.
    let done = false;
    void Promise.all([first, ...calls]).then(() => (done = true));
    while (!done) {
      acks.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(maxInFlight).toBe(1);
    expect(out).toEqual(['healthy', 'unhealthy']);
  });
});
