import { describe, expect, it } from 'vitest';
import { HUB_ENV_SETTINGS, hubEnvSettingsHelp, resolveHubConfig } from './config';

describe('hub settings from the environment', () => {
  it('lists the supervisor interval and the command timeout in --help, with their defaults', () => {
    const help = hubEnvSettingsHelp();
    expect(help).toMatch(/^ {2}HOMELAB_SUPERVISOR_INTERVAL_MS +.*\(default 5000\)$/m);
    expect(help).toMatch(/^ {2}HOMELAB_COMMAND_TIMEOUT_MS +.*\(default 120000\)$/m);
  });

  it.each(HUB_ENV_SETTINGS)('reads $env into $key and lists it in --help', ({ key, env }) => {
    const config = resolveHubConfig({ root: '/tmp/hl', hosts: '/tmp/hl-hosts' }, { [env]: '7' });
    expect(config[key]).toBe(7);
    expect(hubEnvSettingsHelp()).toContain(`  ${env} `);
  });
});
