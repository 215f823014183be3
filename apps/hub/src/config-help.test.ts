import { describe, expect, it } from 'vitest';
import { HUB_SETTINGS, hubSettingsHelp, resolveHubConfig } from './config';

const configurable = Object.entries(HUB_SETTINGS).filter(([, s]) => 'flag' in s || 'env' in s);

describe('hub settings, declared once', () => {
  it('lists the supervisor interval and the command timeout in --help, with their defaults', () => {
    const help = hubSettingsHelp();
    expect(help).toMatch(/^ {2}HOMELAB_SUPERVISOR_INTERVAL_MS\s+.*\(default 5000\)$/m);
    expect(help).toMatch(/^ {2}HOMELAB_COMMAND_TIMEOUT_MS +.*\(default 120000\)$/m);
    expect(help).toMatch(/^ {2}--http-port <port> +UI\/API port \(HOMELAB_HTTP_PORT, default 18180\)$/m);
  });

  it.each(configurable)('lists %s in --help by its flag and its variable', (_key, s) => {
    const help = hubSettingsHelp();
    if ('flag' in s) expect(help).toMatch(new RegExp(`^ {2}--${s.flag}\\b`, 'm'));
    if ('env' in s) expect(help).toContain(s.env);
  });

  const numericFromEnv = configurable.filter(([, s]) => !('flag' in s) && typeof s.type.safeParse(undefined).data === 'number');
  it.each(numericFromEnv)('reads %s from its variable', (key, s) => {
    const config = resolveHubConfig({ root: '/tmp/hl', hosts: '/tmp/hl-hosts' }, { [(s as { env: string }).env]: '7' });
    expect(config[key as keyof typeof config]).toBe(7);
  });

  it('lets a flag win over its variable, and the variable over the default', () => {
    expect(resolveHubConfig({}, {}).httpPort).toBe(18180);
    expect(resolveHubConfig({}, { HOMELAB_HTTP_PORT: '8080' }).httpPort).toBe(8080);
    expect(resolveHubConfig({ 'http-port': '9090' }, { HOMELAB_HTTP_PORT: '8080' }).httpPort).toBe(9090);
  });
});
