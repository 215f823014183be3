import { describe, expect, it } from 'vitest';
import { UsageError } from './args';
import { hubUrlSetting } from './hub-client-settings';

describe('the hub URL of the commands that call the hub', () => {
  it.each([
    { flag: undefined, env: {}, url: undefined },
    { flag: undefined, env: { CONTROL_PLANE_URL: 'http://100.95.58.48:18180' }, url: 'http://100.95.58.48:18180' },
    { flag: undefined, env: { HOMELAB_HUB_URL: 'http://hub:18180', CONTROL_PLANE_URL: 'http://old:18180' }, url: 'http://hub:18180' },
    { flag: undefined, env: { HOMELAB_HUB_URL: '', CONTROL_PLANE_URL: 'http://old:18180' }, url: 'http://old:18180' },
    { flag: 'https://flag.example:443', env: { HOMELAB_HUB_URL: 'http://hub:18180', CONTROL_PLANE_URL: 'http://old:18180' }, url: 'https://flag.example:443' },
  ])('takes $url from flag $flag and $env (the flag, then HOMELAB_HUB_URL, then its alias CONTROL_PLANE_URL)', ({ flag, env, url }) => {
    expect(hubUrlSetting(flag, env)).toBe(url);
  });

  it('names both variables when the value is not an http(s) URL', () => {
    expect(() => hubUrlSetting(undefined, { CONTROL_PLANE_URL: 'ftp://old' })).toThrow(UsageError);
    expect(() => hubUrlSetting(undefined, { CONTROL_PLANE_URL: 'ftp://old' })).toThrow(/--hub \(HOMELAB_HUB_URL or CONTROL_PLANE_URL\)/);
  });
});
