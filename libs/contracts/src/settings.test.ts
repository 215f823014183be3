import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readSettings, settingsHelp, settingsObject, settingsOptions, settingsProblems, type SettingsTable } from './settings';

const TABLE = {
  port: { flag: 'port', arg: '<port>', env: 'X_PORT', type: z.coerce.number().int().max(65535).default(80), help: 'listen port' },
  verbose: { flag: 'verbose', switch: true, env: 'X_VERBOSE', type: z.preprocess((v) => v === true || v === 'true', z.boolean()), help: 'say more' },
  token: { env: 'X_TOKEN', type: z.string().min(3).optional(), help: 'API token' },
  url: { flag: 'url', arg: '<url>', env: 'X_URL', envAliases: ['OLD_URL', 'OLDER_URL'], type: z.url().optional(), help: 'where' },
  internal: { type: z.number().default(5), help: 'set by tests only' },
} as const satisfies SettingsTable;

describe('a settings table', () => {
  it.each([
    { flags: {}, env: {}, raw: {} },
    { flags: {}, env: { X_PORT: '8080' }, raw: { port: '8080' } },
    { flags: { port: '9090' }, env: { X_PORT: '8080' }, raw: { port: '9090' } },
    { flags: {}, env: { X_PORT: '' }, raw: {} },
    { flags: { verbose: true }, env: {}, raw: { verbose: true } },
    { flags: {}, env: { X_TOKEN: 'abc', internal: '9' }, raw: { token: 'abc' } },
    { flags: {}, env: { OLD_URL: 'http://a' }, raw: { url: 'http://a' } },
    { flags: {}, env: { OLDER_URL: 'http://c', OLD_URL: '' }, raw: { url: 'http://c' } },
    { flags: {}, env: { X_URL: 'http://b', OLD_URL: 'http://a' }, raw: { url: 'http://b' } },
    { flags: { url: 'http://f' }, env: { X_URL: 'http://b', OLD_URL: 'http://a' }, raw: { url: 'http://f' } },
  ])('reads $flags over $env as $raw (an empty variable is unset)', ({ flags, env, raw }) => {
    expect(readSettings(TABLE, flags, env)).toEqual(raw);
  });

  it('parses what it read into the typed config, defaults filled', () => {
    expect(settingsObject(TABLE).parse(readSettings(TABLE, { verbose: true }, { X_PORT: '81' }))).toEqual({ port: 81, verbose: true, internal: 5 });
  });

  it('gives parseArgs one option per flag, a switch as a boolean', () => {
    expect(settingsOptions(TABLE)).toEqual({ port: { type: 'string' }, verbose: { type: 'boolean' }, url: { type: 'string' } });
  });

  it('names the flag and variable, or the variable alone, with the reason of each wrong value', () => {
    const res = settingsObject(TABLE).safeParse(readSettings(TABLE, { port: '99999' }, { X_TOKEN: 'a' }));
    expect(res.success).toBe(false);
    expect(settingsProblems(TABLE, res.error!)).toEqual([expect.stringMatching(/^--port \(X_PORT\): .*65535/), expect.stringMatching(/^X_TOKEN: .*3/)]);
  });

  it('reads an alias only when the variable is unset, and names both in help and in errors', () => {
    expect(settingsHelp(TABLE)).toMatch(/^ {2}--url <url> +where \(X_URL or OLD_URL or OLDER_URL\)$/m);
    const res = settingsObject(TABLE).safeParse(readSettings(TABLE, {}, { OLD_URL: 'not a url' }));
    expect(settingsProblems(TABLE, res.error!)).toEqual([expect.stringMatching(/^--url \(X_URL or OLD_URL or OLDER_URL\): /)]);
  });

  it('lists every flag and variable in help with its default, and leaves code-only settings out', () => {
    const help = settingsHelp(TABLE);
    expect(help).toMatch(/^ {2}--port <port> +listen port \(X_PORT, default 80\)$/m);
    expect(help).toMatch(/^ {2}--verbose +say more \(X_VERBOSE\)$/m);
    expect(help).toMatch(/^Environment only:\n {2}X_TOKEN +API token$/m);
    expect(help).not.toContain('set by tests only');
  });
});
