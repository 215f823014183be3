/**
 * Progress of a long CLI run on stderr: a bar redrawn in place on a terminal,
 * a plain line every few seconds otherwise (logs, `docker logs`, CI), so the
 * output stays readable wherever it goes. Formatting is pure; the reporter
 * only decides when to write.
 */

export interface ProgressState {
  /** Events read so far (applied + skipped). */
  events: number;
  bytesDone: number;
  /** 0 when unknown (no bar, no percentage). */
  bytesTotal: number;
  /** File being read, relative to `events/`. */
  file: string | null;
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export const formatCount = (n: number): string => Math.round(n).toLocaleString('en-US');

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
}

/** Events per second over the whole run; 0 before any time passed. */
export const ratePerSec = (events: number, elapsedMs: number): number => (elapsedMs > 0 ? (events * 1000) / elapsedMs : 0);

const fraction = (s: ProgressState): number | null => (s.bytesTotal > 0 ? Math.min(1, Math.max(0, s.bytesDone / s.bytesTotal)) : null);

/** One terminal line, at most `width` characters: `[#####-----]  45%  1,234 events  512 ev/s  2026-03-01/piha.jsonl`. */
export function renderBar(s: ProgressState, elapsedMs: number, width: number): string {
  const f = fraction(s);
  const pct = f === null ? '' : ` ${String(Math.floor(f * 100)).padStart(3)}%`;
  const stats = `${pct}  ${formatCount(s.events)} events  ${formatCount(ratePerSec(s.events, elapsedMs))} ev/s`;
  const fileText = s.file ? `  ${s.file}` : '';
  // The bar gives way first, so the file name stays readable on narrow terminals.
  const barWidth = Math.max(10, Math.min(30, width - stats.length - fileText.length - 2));
  const filled = f === null ? 0 : Math.round(f * barWidth);
  const line = `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]${stats}${fileText}`;
  return line.length > width ? line.slice(0, Math.max(0, width - 1)) : line;
}

/** One log line: `replay: 1,234 events (45%), 512 events/s, file 2026-03-01/piha.jsonl`. */
export function renderLine(label: string, s: ProgressState, elapsedMs: number): string {
  const f = fraction(s);
  const pct = f === null ? '' : ` (${Math.floor(f * 100)}%)`;
  return `${label}: ${formatCount(s.events)} events${pct}, ${formatCount(ratePerSec(s.events, elapsedMs))} events/s${s.file ? `, file ${s.file}` : ''}\n`;
}

export interface ProgressReporterOptions {
  label: string;
  /** Milliseconds, injected for tests; defaults to performance.now. */
  now?: () => number;
  /** Minimum time between two writes; defaults to 100 ms on a terminal, 5 s otherwise. */
  intervalMs?: number;
}

export class ProgressReporter {
  private readonly now: () => number;
  private readonly started: number;
  private readonly intervalMs: number;
  private lastWrite = -Infinity;

  constructor(
    private readonly out: ProgressOutput,
    private readonly opts: ProgressReporterOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    this.started = this.now();
    this.intervalMs = opts.intervalMs ?? (out.isTTY ? 100 : 5000);
  }

  /** Some terminals (and pseudo-terminals under `script`) report 0 columns. */
  private width(): number {
    const c = this.out.columns;
    return (c !== undefined && c >= 20 ? c : 80) - 1;
  }

  elapsedMs(): number {
    return this.now() - this.started;
  }

  /** Cheap when called often: writes only when the interval has passed. */
  update(s: ProgressState): void {
    const t = this.now();
    if (t - this.lastWrite < this.intervalMs) return;
    this.lastWrite = t;
    const elapsed = t - this.started;
    if (this.out.isTTY) {
      this.out.write(`\r${renderBar(s, elapsed, this.width())}\x1b[K`);
    } else {
      this.out.write(renderLine(this.opts.label, s, elapsed));
    }
  }

  /** Draws the final state (a full bar) and ends the line, so what follows starts clean. */
  finish(s: ProgressState): void {
    if (this.out.isTTY) {
      this.out.write(`\r${renderBar(s, this.elapsedMs(), this.width())}\x1b[K\n`);
    } else if (this.lastWrite !== -Infinity) {
      this.out.write(renderLine(this.opts.label, s, this.elapsedMs()));
    }
  }
}
