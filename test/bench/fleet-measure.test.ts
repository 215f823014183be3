import fs from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '@homelab/testkit';
import { detectionMs, dist, histogramOf, histogramQuantile, readFailures, slope } from './fleet-measure';

const scrape = (buckets: Record<string, number>, count: number, sum: number) =>
  [
    '# TYPE homelab_supervisor_cycle_seconds histogram',
    ...Object.entries(buckets).map(([le, n]) => `homelab_supervisor_cycle_seconds_bucket{le="${le}"} ${n}`),
    `homelab_supervisor_cycle_seconds_sum ${sum}`,
    `homelab_supervisor_cycle_seconds_count ${count}`,
  ].join('\n');

describe('fleet benchmark: histogram quantiles between two scrapes', () => {
  const before = histogramOf(scrape({ '0.1': 10, '1': 10, '10': 10, '+Inf': 10 }, 10, 0.5), 'homelab_supervisor_cycle_seconds');
  it.each([
    { name: 'only the observations between the scrapes count', after: { '0.1': 10, '1': 20, '10': 20, '+Inf': 20 }, q: 0.5, want: 0.55 },
    { name: 'interpolated inside the bucket', after: { '0.1': 10, '1': 14, '10': 20, '+Inf': 20 }, q: 0.95, want: 1 + (9 * (9.5 - 4)) / 6 },
    { name: 'above the last finite bucket: its bound, a floor', after: { '0.1': 10, '1': 10, '10': 10, '+Inf': 12 }, q: 0.5, want: 10 },
    { name: 'no observation: not a number', after: { '0.1': 10, '1': 10, '10': 10, '+Inf': 10 }, q: 0.5, want: NaN },
  ])('$name', ({ after, q, want }) => {
    const a = histogramOf(scrape(after, after['+Inf'], 1), 'homelab_supervisor_cycle_seconds');
    const got = histogramQuantile(before, a, q);
    if (Number.isNaN(want)) expect(got).toBeNaN();
    else expect(got).toBeCloseTo(want, 6);
  });
});

describe('fleet benchmark: figures', () => {
  it('takes percentiles by rank and fits a slope', () => {
    expect(dist([5, 1, 4, 2, 3])).toEqual({ n: 5, p50: 3, p95: 5, p99: 5, max: 5 });
    expect(slope([0, 1, 2, 3], [10, 12, 14, 16])).toBeCloseTo(2, 9);
  });
});

describe('fleet benchmark: detection from the failure log and the hub event log', () => {
  let tmp: TempDir;
  afterEach(() => tmp?.cleanup());

  it('matches each failure with the first non-repeat service_unhealthy of its service received after it', async () => {
    tmp = await makeTempDir('fleet-measure');
    const at = Date.parse('2026-12-06T10:00:00.000Z');
    const iso = (ms: number) => new Date(at + ms).toISOString();
    const line = (service: string, rxMs: number, heartbeat = false) =>
      JSON.stringify({ event: { type: 'service_unhealthy', service, data: heartbeat ? { heartbeat: true } : {} }, rx: iso(rxMs) });
    await fs.mkdir(path.join(tmp.path, 'root/events/2026-12-06'), { recursive: true });
    await fs.writeFile(
      path.join(tmp.path, 'root/events/2026-12-06/fleet-0001.jsonl'),
      [line('svc-01', -500), line('svc-01', 20, true), line('svc-01', 35), line('svc-01', 90), line('svc-02', 70), ''].join('\n'),
    );
    await fs.writeFile(
      path.join(tmp.path, 'failures-0.jsonl'),
      [
        { node: 'fleet-0001', service: 'svc-01', at },
        { node: 'fleet-0001', service: 'svc-02', at },
        { node: 'fleet-0001', service: 'svc-03', at },
        { node: 'fleet-0001', service: 'svc-01', restoredAt: at + 300, by: 'hub' },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n') + '\n',
    );
    const { failures, byHub, bySelf } = await readFailures(tmp.path);
    expect([failures.length, byHub, bySelf]).toEqual([3, 1, 0]);
    expect(await detectionMs(path.join(tmp.path, 'root'), failures)).toEqual({ ms: [35, 70], unmatched: 1 });
  });
});
