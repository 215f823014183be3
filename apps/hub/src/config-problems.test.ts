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

describe('the /metrics listener and host health settings', () => {
  it('keeps the open /metrics listener off unless a port is given, on 127.0.0.1 by default', () => {
    const c = resolveHubConfig({}, {});
    expect(c.metricsPort).toBeUndefined();
    expect(c.metricsHost).toBe('127.0.0.1');
    expect(resolveHubConfig({ 'metrics-port': '9464' }, { HOMELAB_METRICS_HOST: '0.0.0.0' })).toMatchObject({ metricsPort: 9464, metricsHost: '0.0.0.0' });
  });

  it('reports host_temperature from 75 °C unless told otherwise', () => {
    expect(resolveHubConfig({}, {}).hostTempFindingC).toBe(75);
    expect(resolveHubConfig({}, { HOMELAB_HOST_TEMP_FINDING_C: '68.5' }).hostTempFindingC).toBe(68.5);
  });

  it.each([
    [{ 'metrics-port': 'prom' }, {}, /--metrics-port \(HOMELAB_METRICS_PORT\): .*number/],
    [{}, { HOMELAB_HOST_TEMP_FINDING_C: 'hot' }, /HOMELAB_HOST_TEMP_FINDING_C: .*number/],
    [{}, { HOMELAB_HOST_TEMP_FINDING_C: '500' }, /HOMELAB_HOST_TEMP_FINDING_C: .*150/],
  ])('names a wrong value (%o %o)', (flags, env, message) => {
    expect(() => resolveHubConfig(flags, env)).toThrowError(expect.objectContaining({ code: 'config_invalid', message: expect.stringMatching(message) }));
  });
});
