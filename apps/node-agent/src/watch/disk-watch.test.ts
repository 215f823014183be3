import { describe, expect, it } from 'vitest';
import { ManualClock } from '@homelab/contracts';
import { DiskWatcher, nextDiskLevel, type DiskLevel, type DiskUsage } from './disk-watch';
import { RecordingSink, silentLog } from '../testing/fakes';

const T = { warn: 85, high: 95, hysteresis: 5 };

describe('nextDiskLevel (hysteresis)', () => {
  const cases: Array<[DiskLevel | undefined, number, DiskLevel, string]> = [
    [undefined, 50, 'ok', 'first reading below warn'],
    [undefined, 85, 'warn', 'reaching warn'],
    [undefined, 99, 'high', 'reaching high at once'],
    ['warn', 82, 'warn', 'warn holds until 5 points below the threshold'],
    ['warn', 80.1, 'warn', 'warn holds just above warn - hysteresis'],
    ['warn', 79.9, 'ok', 'warn clears below warn - hysteresis'],
    ['high', 91, 'high', 'high holds above high - hysteresis'],
    ['high', 89, 'warn', 'high drops to warn below high - hysteresis'],
    ['high', 60, 'ok', 'high drops straight to ok when far below'],
    ['ok', 95, 'high', 'ok jumps to high'],
    ['warn', 96, 'high', 'warn rises to high'],
  ];
  it.each(cases)('%s at %s%% → %s (%s)', (prev, used, want) => {
    expect(nextDiskLevel(prev, used, T)).toBe(want);
  });
});

describe('DiskWatcher', () => {
  function setup(mounts: string[], usage: Record<string, DiskUsage>) {
    const sink = new RecordingSink();
    const w = new DiskWatcher({
      mounts: async () => mounts,
      usage: async (m) => {
        const u = usage[m];
        if (!u) throw new Error(`ENOENT ${m}`);
        return u;
      },
      thresholds: T,
      sink,
      clock: new ManualClock(),
      log: silentLog,
      intervalMs: 30_000,
    });
    return { sink, w };
  }

  it('reports each mount once at first, then only level changes', async () => {
    const usage = { '/': { dev: 1, usedPercent: 40, freeBytes: 6e9 }, '/data': { dev: 2, usedPercent: 90, freeBytes: 1e9 } };
    const { sink, w } = setup(['/', '/data'], usage);
    await w.runOnce();
    expect(sink.drafts).toEqual([
      { type: 'disk_ok', data: { mount: '/', usedPercent: 40 } },
      { type: 'disk_pressure', data: { mount: '/data', level: 'warn', usedPercent: 90, freeBytes: 1e9 } },
    ]);
    sink.clear();
    usage['/data'] = { dev: 2, usedPercent: 83, freeBytes: 2e9 };
    await w.runOnce();
    expect(sink.drafts).toEqual([]);
    usage['/data'] = { dev: 2, usedPercent: 97, freeBytes: 1e8 };
    await w.runOnce();
    usage['/data'] = { dev: 2, usedPercent: 50, freeBytes: 5e9 };
    await w.runOnce();
    expect(sink.types()).toEqual(['disk_pressure', 'disk_ok']);
    expect(sink.drafts[0]).toMatchObject({ data: { level: 'high' } });
  });

  it('reports two mounts of one filesystem once, and skips a mount it cannot read', async () => {
    const { sink, w } = setup(['/', '/var/lib/docker', '/gone'], {
      '/': { dev: 7, usedPercent: 10, freeBytes: 1 },
      '/var/lib/docker': { dev: 7, usedPercent: 10, freeBytes: 1 },
    });
    await w.runOnce();
    expect(sink.drafts).toEqual([{ type: 'disk_ok', data: { mount: '/', usedPercent: 10 } }]);
  });
});
