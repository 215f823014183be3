import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * JSON logs to stdout (pino). Errors go under `err`, untrusted data under its
 * own key (e.g. `payload`), never interpolated into the message.
 * LOG_LEVEL overrides the level; `silent` in tests.
 */
export function createLogger(name: string, opts: LoggerOptions = {}): Logger {
  return pino({
    name,
    level: process.env.LOG_LEVEL ?? 'info',
    base: { app: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...opts,
  });
}

/** Truncates untrusted text before it reaches a log line. */
export function preview(value: unknown, max = 200): string {
  const s = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} bytes)` : s;
}
