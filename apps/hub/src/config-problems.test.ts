import { describe, expect, it } from 'vitest';
import { resolveHubConfig } from './config';

describe('a wrong hub setting', () => {
  it.each([
    [{ 'http-port': 'eighty' }, {}, /--http-port \(HOMELAB_HTTP_PORT\): .*number/],
    [{}, { HOMELAB_MQTT_PORT: '70000' }, /--mqtt-port \(HOMELAB_MQTT_PORT\): .*65535/],
    [{ 'mqtt-url': 'http://broker' }, {}, /--mqtt-url \(HOMELAB_MQTT_URL\): must be an mqtt:\/\/ or mqtts:\/\/ URL/],
    [{}, { HOMELAB_SUPERVISOR_INTERVAL_MS: '-1' }, /HOMELAB_SUPERVISOR_INTERVAL_MS: .*>0/],
    [{}, { HOMELAB_ADMIN_PASSWORD_HASH: 'plain' }, /HOMELAB_ADMIN_PASSWORD_HASH: must come from `homelab auth hash-password`/],
  ])('names the flag or variable and the reason of a wrong value (%o %o)', (flags, env, message) => {
    expect(() => resolveHubConfig(flags, env)).toThrowError(
      expect.objectContaining({ name: 'HubError', code: 'config_invalid', message: expect.stringMatching(message) }),
    );
  });
});
