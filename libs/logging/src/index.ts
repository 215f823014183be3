import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { logSettings } from './settings';
import { prettyStream } from './pretty';

export type { Logger };
export { LOG_SETTINGS, logSettings, type LogSettings } from './settings';

export interface LoggerTarget {
  /** Where lines go; default stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Environment to read LOG_LEVEL / LOG_FORMAT from; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/**
 * Logs of one app (pino): JSON lines for machines, or — on a terminal or with
 * LOG_FORMAT=pretty — one readable, coloured line per message
 * (docs/configuration.md, "Logs"). Errors go under `err`, untrusted data
 * under its own key (e.g. `payload`), never interpolated into the message.
 * A wrong LOG_LEVEL or LOG_FORMAT throws a clear error naming the variable.
 */
export function createLogger(name: string, opts: LoggerOptions = {}, target: LoggerTarget = {}): Logger {
  const stream = target.stream ?? process.stdout;
  const settings = logSettings(target.env ?? process.env);
  const pretty = settings.logFormat === 'pretty' || (settings.logFormat === 'auto' && stream.isTTY === true);
  const options: LoggerOptions = {
    name,
    level: settings.logLevel,
    base: { app: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...opts,
  };
  const destination: DestinationStream = pretty
    ? prettyStream(stream, target.env ?? process.env, settings.logLevel === 'debug' || settings.logLevel === 'trace')
    : (stream as DestinationStream);
  return target.stream || pretty ? pino(options, destination) : pino(options);
}

/** Truncates untrusted text before it reaches a log line. */
export function preview(value: unknown, max = 200): string {
  const s = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('utf8') : JSON.stringify(value);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} bytes)` : s;
}
