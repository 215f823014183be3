import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveHubConfig } from './config';

describe('hub configuration of MQTT security', () => {
  it('denies anonymous MQTT unless --allow-anonymous or HOMELAB_MQTT_ALLOW_ANONYMOUS=true', () => {
    expect(resolveHubConfig({}, {}).allowAnonymous).toBe(false);
    expect(resolveHubConfig({ 'allow-anonymous': true }, {}).allowAnonymous).toBe(true);
    expect(resolveHubConfig({}, { HOMELAB_MQTT_ALLOW_ANONYMOUS: 'true' }).allowAnonymous).toBe(true);
    expect(resolveHubConfig({}, { HOMELAB_MQTT_ALLOW_ANONYMOUS: '1' }).allowAnonymous).toBe(false);
  });

  it('takes a TLS certificate and key only together', () => {
    expect(() => resolveHubConfig({ 'mqtt-tls-cert': '/c.pem' }, {})).toThrow(/--mqtt-tls-cert and --mqtt-tls-key go together/);
    expect(resolveHubConfig({ 'mqtt-tls-cert': '/c.pem', 'mqtt-tls-key': '/k.pem' }, {})).toMatchObject({
      mqttTlsCert: '/c.pem',
      mqttTlsKey: '/k.pem',
      mqttTlsPort: 8883,
    });
  });

  it('reads the hub’s own broker password from a file, naming the file when it cannot', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-hub-pw-'));
    try {
      const file = path.join(dir, 'hub.secret');
      fs.writeFileSync(file, 'hub-secret\n');
      expect(resolveHubConfig({ 'mqtt-password-file': file }, {}).mqttPassword).toBe('hub-secret');
      expect(resolveHubConfig({}, { HOMELAB_MQTT_PASSWORD_FILE: file }).mqttPassword).toBe('hub-secret');
      expect(() => resolveHubConfig({ 'mqtt-password-file': path.join(dir, 'nope') }, {})).toThrow(
        /--mqtt-password-file \(HOMELAB_MQTT_PASSWORD_FILE\) .*nope/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
