import { describe, expect, it } from 'vitest';
import { DiscoveryPrefix, haGrants, haTopic } from './home-assistant';
import { grantCovers } from './mqtt-filters';

describe('grantCovers', () => {
  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/+/c', 'a/+/c', true],
    ['a/+/c', 'a/b/c/d', false],
    ['a/#', 'a', true],
    ['a/#', 'a/b/#', true],
    ['a/b', 'a/+', false],
    ['a/+', 'a/#', false],
    ['a/b/c', 'a/b', false],
    ['+/+/+/config', 'x/y/z/config', true],
  ])('%s covers %s: %s', (grant, topic, covered) => {
    expect(grantCovers(grant, topic)).toBe(covered);
  });
});

describe('the discovery prefix', () => {
  it.each([['homeassistant'], ['ha/discovery'], ['HA_1']])('accepts %s', (p) => expect(DiscoveryPrefix.safeParse(p).success).toBe(true));
  it.each([[''], ['ha/#'], ['ha/+'], ['/ha'], ['ha/'], ['homelab'], ['homelab/ha'], ['ha disc']])('refuses %j', (p) =>
    expect(DiscoveryPrefix.safeParse(p).success).toBe(false),
  );
});

describe('haGrants', () => {
  const opts = { discoveryPrefix: 'homeassistant', approveButtons: false };
  it('lets Home Assistant publish only its status unless Approve buttons are on', () => {
    expect(haGrants('homeassistant', opts).publish).toEqual(['homeassistant/status']);
    expect(haGrants('homeassistant', { ...opts, approveButtons: true }).publish).toEqual(['homeassistant/status', haTopic('approve', opts)]);
  });
  it('lets Home Assistant read its prefix and the state channels for people, nothing else', () => {
    expect(haGrants('homeassistant', opts).subscribe).toEqual(['homeassistant/#', 'homelab/v1/nodes/+/services/+/state', 'homelab/v1/nodes/+/state']);
  });
  it('lets the hub publish and read discovery configs and hear the birth', () => {
    expect(haGrants('hub', opts)).toEqual({ publish: ['homeassistant/+/+/+/config'], subscribe: ['homeassistant/+/+/+/config', 'homeassistant/status'] });
  });
});
