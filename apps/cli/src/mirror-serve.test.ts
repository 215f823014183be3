import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mirrorViewConfig } from './mirror-serve';

describe('the settings of the mirror page', () => {
  it('serves on 127.0.0.1:18181 without a token by default', () => {
    expect(mirrorViewConfig({ serve: true }, {})).toEqual({ serve: true, port: 18181, host: '127.0.0.1' });
  });

  it.each([['0.0.0.0'], ['192.168.1.20'], ['::']])('refuses to serve on %s without a view token, naming the flag to give', (host) => {
    expect(() => mirrorViewConfig({ serve: true, host }, {})).toThrow(/--view-token-file \(HOMELAB_MIRROR_VIEW_TOKEN_FILE\)/);
  });

  it('serves on a LAN address with a view token from the environment', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'hl-view-')), 'token');
    fs.writeFileSync(file, 'abc123\n');
    expect(mirrorViewConfig({ serve: true }, { HOMELAB_MIRROR_HOST: '0.0.0.0', HOMELAB_MIRROR_VIEW_TOKEN_FILE: file, HOMELAB_MIRROR_PORT: '9000' })).toEqual({
      serve: true,
      port: 9000,
      host: '0.0.0.0',
      token: 'abc123',
    });
  });

  it('serves when HOMELAB_MIRROR_SERVE is exactly true, as the compose file sets it', () => {
    expect(mirrorViewConfig({}, { HOMELAB_MIRROR_SERVE: 'true' }).serve).toBe(true);
    expect(mirrorViewConfig({}, { HOMELAB_MIRROR_SERVE: 'false' }).serve).toBe(false);
  });

  it('names the setting of a port that is not a number', () => {
    expect(() => mirrorViewConfig({ serve: true, port: 'eighty' }, {})).toThrow(/--port \(HOMELAB_MIRROR_PORT\)/);
  });
});
