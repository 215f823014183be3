import { describe, expect, it } from 'vitest';
import { EVENT_LAYOUT, withPrevSeq } from './event-layout';
import { HomelabEvent } from './events';

const samples: unknown[] = [
  {
    data: { heartbeat: true, containers: [{ state: 'running', name: 'z2m' }] },
    service: 'z2m',
    type: 'service_healthy',
    ts: '2026-03-01T10:00:00.000Z',
    seq: 2,
    node: 'piha',
    id: 'piha-2',
  },
  {
    data: { usedPercent: 97, level: 'high', mount: '/' },
    type: 'disk_pressure',
    prevSeq: 1,
    ts: '2026-03-01T10:00:00.000Z',
    seq: 2,
    node: 'piha',
    id: 'piha-2',
  },
  { data: { reason: 'status_offline', session: 3 }, type: 'node_offline', ts: '2026-03-01T10:00:00.000Z', seq: 2, node: 'piha', id: 'piha-2' },
];

describe('event layout', () => {
  it.each(samples)('is the key order zod outputs, for the event and its data (%#)', (sample) => {
    const event = HomelabEvent.parse(sample);
    const layout = EVENT_LAYOUT[event.type];
    expect(Object.keys(event)).toEqual(layout.keys.filter((k) => k in event));
    expect(Object.keys(event.data ?? {})).toEqual(layout.data.filter((k) => k in (event.data ?? {})));
  });

  it('sets prevSeq where zod puts it, by splicing a stamped line or rebuilding any other', () => {
    const stamped = JSON.stringify(HomelabEvent.parse(samples[0]));
    const spliced = withPrevSeq(stamped, 1);
    expect(spliced).toBe(JSON.stringify(HomelabEvent.parse({ ...JSON.parse(stamped), prevSeq: 1 })));
    const odd = JSON.stringify({ type: 'node_heartbeat', prevSeq: 1, seq: 7, ts: '2026-03-01T10:00:00.000Z', node: 'n1', id: 'n1-7' });
    expect(withPrevSeq(odd, 5)).toBe(JSON.stringify(HomelabEvent.parse({ ...JSON.parse(odd), prevSeq: 5 })));
  });
});
