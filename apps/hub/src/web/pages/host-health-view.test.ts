import { describe, expect, it } from 'vitest';
import { hostHealthCell, humanUptime } from './host-health-view';

const text = (m: Record<string, number> | undefined, hot = false) => {
  const cell = hostHealthCell(m, hot);
  return cell === false ? false : cell.text.replace(/<[^>]+>/g, '');
};

describe('host health on the node page', () => {
  it.each<{ name: string; m: Record<string, number> | undefined; want: string | false }>([
    { name: 'no heartbeat yet', m: undefined, want: false },
    { name: 'an older agent without host figures', m: { services: 3, agentRssMb: 40 }, want: false },
    {
      name: 'a Raspberry Pi, under-voltage now',
      m: { cpuTempC: 61.2, throttled: 0x50005, memUsedPercent: 40, memAvailableMb: 2400.4, load1: 0.5, load5: 0.4, load15: 0.3, uptimeSec: 93784 },
      want: 'hostCPU 61.2 °C · under-voltage, throttled now · memory 40 % used, 2400 MB available · load 0.5 / 0.4 / 0.3 · up 1 d 2 h',
    },
    { name: 'throttled since boot only', m: { throttled: 0x50000 }, want: 'hostunder-voltage, throttled since boot' },
    { name: 'never throttled', m: { throttled: 0 }, want: 'hostnot throttled' },
    { name: 'a VM: no temperature, no throttling', m: { memUsedPercent: 12.5, uptimeSec: 300 }, want: 'hostmemory 12.5 % used · up 5 min' },
  ])('$name', ({ m, want }) => expect(text(m)).toBe(want));

  it('shows the temperature in bold while the node has a host_temperature finding', () => {
    expect((hostHealthCell({ cpuTempC: 82 }, true) as { text: string }).text).toContain('<b>CPU 82 °C</b>');
    expect((hostHealthCell({ cpuTempC: 82 }, false) as { text: string }).text).not.toContain('<b>');
  });

  it.each([
    [0, '0 min'],
    [300, '5 min'],
    [7260, '2 h 1 min'],
    [93784, '1 d 2 h'],
  ])('uptime %i s reads %s', (sec, want) => expect(humanUptime(sec)).toBe(want));
});
