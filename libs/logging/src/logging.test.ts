import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './index';

/** A stream that keeps what is written, and says it is a terminal when asked to. */
function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY });
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

const ESC = '\u001b[';

describe('createLogger', () => {
  it('writes one JSON object per line when the output is not a terminal', () => {
    const out = capture(false);
    createLogger('hub', {}, { stream: out.stream, env: {} }).child({ part: 'web' }).info({ node: 'piha' }, 'listening');
    expect(out.lines().map((l) => JSON.parse(l))).toMatchObject([{ level: 30, app: 'hub', part: 'web', node: 'piha', msg: 'listening' }]);
  });

  it('writes one readable, coloured line per message on a terminal, with the error’s message on it', () => {
    const out = capture(true);
    createLogger('agent', {}, { stream: out.stream, env: {} }).warn({ err: new Error('socket gone\nsecond line'), node: 'piha' }, 'docker unreachable');
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(ESC);
    expect(lines[0]!.replaceAll(/\u001b\[[0-9;]*m/g, '')).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: agent: docker unreachable \(socket gone\) \{"node":"piha"\}$/,
    );
  });

  it('is readable but colourless with LOG_FORMAT=pretty off a terminal, and with NO_COLOR on one', () => {
    for (const [isTTY, env] of [
      [false, { LOG_FORMAT: 'pretty' }],
      [true, { NO_COLOR: '1' }],
    ] as const) {
      const out = capture(isTTY);
      createLogger('hub', {}, { stream: out.stream, env }).info('started');
      expect(out.lines()).toEqual([expect.stringMatching(/^\[[\d:.]+\] INFO: hub: started$/)]);
    }
  });

  it('writes JSON on a terminal with LOG_FORMAT=json, and honours LOG_LEVEL', () => {
    const out = capture(true);
    const log = createLogger('hub', {}, { stream: out.stream, env: { LOG_FORMAT: 'json', LOG_LEVEL: 'warn' } });
    log.info('hidden');
    log.warn('shown');
    expect(out.lines().map((l) => JSON.parse(l).msg)).toEqual(['shown']);
  });

  it.each([
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: Invalid option/],
    [{ LOG_FORMAT: 'xml' }, /^LOG_FORMAT: Invalid option/],
  ])('refuses %j with an error naming the variable', (env, message) => {
    expect(() => createLogger('hub', {}, { stream: capture(false).stream, env })).toThrow(message);
  });
});
