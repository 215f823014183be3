import { describe, expect, it } from 'vitest';
import { checkAgentConfig, parseAgentConfig } from './config';
import { cpuPercentBetween } from './watch/host-stats';

describe('disk settings of the agent', () => {
  it('default: warn 85 %, high 95 %, hysteresis 5, a check every 30 s, mounts chosen at run time (/ and the Docker data-root)', () => {
    const c = parseAgentConfig({}, { node: 'piha' });
    expect(c).toMatchObject({ diskWarnPercent: 85, diskHighPercent: 95, diskHysteresisPercent: 5, diskCheckMs: 30_000 });
    expect(c.diskMounts).toBeUndefined();
  });

  it('reads a comma-separated mount list and thresholds from the environment', () => {
    const c = parseAgentConfig({ HOMELAB_DISK_MOUNTS: '/, /mnt/data ,', HOMELAB_DISK_WARN_PERCENT: '70', HOMELAB_DISK_HIGH_PERCENT: '90' }, { node: 'piha' });
    expect(c).toMatchObject({ diskMounts: ['/', '/mnt/data'], diskWarnPercent: 70, diskHighPercent: 90 });
  });

  it('refuses relative mounts and a warn threshold above the high one', () => {
    const res = checkAgentConfig({ HOMELAB_DISK_MOUNTS: 'data', HOMELAB_DISK_WARN_PERCENT: '96' }, { node: 'piha' });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.problems.join('\n')).toContain('HOMELAB_DISK_MOUNTS');
      expect(res.problems.join('\n')).toContain('HOMELAB_DISK_WARN_PERCENT');
    }
  });
});

describe('cpuPercentBetween (heartbeat CPU share)', () => {
  it('is the busy share of all cores between two readings', () => {
    expect(cpuPercentBetween({ busy: 100, total: 1000 }, { busy: 350, total: 2000 })).toBe(25);
  });
  it('is absent when no time passed', () => {
    expect(cpuPercentBetween({ busy: 1, total: 10 }, { busy: 1, total: 10 })).toBeUndefined();
  });
});
