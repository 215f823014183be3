import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressReporter, renderBar, renderLine, type ProgressState } from './progress';

const state = (over: Partial<ProgressState> = {}): ProgressState => ({
  events: 1_234_567,
  bytesDone: 450,
  bytesTotal: 1000,
  file: '2026-03-01/piha.jsonl',
  ...over,
});

function sink(isTTY: boolean) {
  const writes: string[] = [];
  return { out: { isTTY, columns: 100, write: (s: string) => writes.push(s) }, writes };
}

describe('progress output', () => {
  it('renders a bar with percentage, events, rate and file within the terminal width', () => {
    const line = renderBar(state(), 2000, 99);
    expect(line).toMatch(/^\[#+-+\]  45%  1,234,567 events  617,284 ev\/s  2026-03-01\/piha\.jsonl$/);
    expect(line.length).toBeLessThanOrEqual(99);
    expect(renderBar(state(), 2000, 40).length).toBeLessThanOrEqual(40);
    expect(renderBar(state({ bytesTotal: 0 }), 2000, 99)).not.toContain('%');
  });

  it('renders plain lines for logs: events, events/s and file', () => {
    expect(renderLine('replay', state(), 2000)).toBe('replay: 1,234,567 events (45%), 617,284 events/s, file 2026-03-01/piha.jsonl\n');
    expect(renderLine('replay', state({ file: null, bytesTotal: 0 }), 0)).toBe('replay: 1,234,567 events, 0 events/s\n');
  });

  it('formats durations for people', () => {
    expect(formatDuration(1840)).toBe('1.84 s');
    expect(formatDuration(65_000)).toBe('1m 05s');
  });

  it('redraws a bar in place on a terminal, at most once per interval, and ends its line', () => {
    let t = 0;
    const { out, writes } = sink(true);
    const p = new ProgressReporter(out, { label: 'replay', now: () => t });
    p.update(state());
    t = 50;
    p.update(state());
    t = 150;
    p.update(state({ bytesDone: 900 }));
    p.finish(state({ bytesDone: 1000 }));
    expect(writes).toHaveLength(3);
    expect(writes.every((w) => w.startsWith('\r'))).toBe(true);
    expect(writes[2]).toMatch(/100%.*\n$/);
  });

  it('writes a plain line every 5 s when stderr is not a terminal', () => {
    let t = 0;
    const { out, writes } = sink(false);
    const p = new ProgressReporter(out, { label: 'replay', now: () => t });
    for (t = 0; t <= 12_000; t += 1000) p.update(state());
    p.finish(state());
    expect(writes).toHaveLength(4); // at 0, 5 s, 10 s, and the final one
    expect(writes.some((w) => w.includes('\r'))).toBe(false);
  });
});
