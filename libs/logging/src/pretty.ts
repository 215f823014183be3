import type { DestinationStream } from 'pino';
import { build as pinoPretty } from 'pino-pretty';

/**
 * One readable line per message: `12:01:02.345 INFO  hub/web: message {"key":"value"}`.
 * An error's message is part of the line, its stack shown only at debug level.
 * In the main thread (no transport worker: a Pi's memory, and a line is out
 * before the process exits). Colour only on a terminal, never with NO_COLOR.
 */
export function prettyStream(stream: NodeJS.WritableStream & { isTTY?: boolean }, env: NodeJS.ProcessEnv, stacks: boolean): DestinationStream {
  const colour = env.NO_COLOR === undefined && (stream.isTTY === true || (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0'));
  return pinoPretty({
    destination: stream,
    sync: true,
    colorize: colour,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    // An error's message joins the line; its stack only at debug and below (stacks).
    ignore: stacks ? 'pid,hostname,name,app,part' : 'pid,hostname,name,app,part,err',
    messageFormat: (log, messageKey) =>
      `${String(log.app ?? '')}${log.part ? `/${String(log.part)}` : ''}: ${String(log[messageKey] ?? '')}${stacks ? '' : errorSuffix(log.err)}`,
  });
}

function errorSuffix(err: unknown): string {
  if (err === undefined || err === null) return '';
  const message = typeof err === 'object' && 'message' in err ? String((err as { message: unknown }).message) : String(err);
  return ` (${message.split('\n')[0]})`;
}
