import { describe, expect, it } from 'vitest';
import { pendingAction } from '@homelab/action-store/testing';
import { historyEntry, pendingCard } from './action-view';
import { servicesTable } from './fleet-view';
import { html, raw, tr } from './html';

const EVIL = '<img src=x onerror=alert(1)> & "quoted" \'single\'';

describe('the page template', () => {
  it.each([
    { value: EVIL, text: '&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;single&#39;' },
    { value: 42, text: '42' },
    { value: 0, text: '0' },
    { value: null, text: '' },
    { value: undefined, text: '' },
    { value: false, text: '' },
    { value: ['<a>', html`<b>`], text: '&lt;a&gt;<b>' },
    { value: html`<i>${'<u>'}</i>`, text: '<i>&lt;u&gt;</i>' },
    { value: raw('<hr>'), text: '<hr>' },
  ])('renders $value as $text', ({ value, text }) => {
    expect(html`${value}`.text).toBe(text);
  });

  it('escapes a value inside an attribute', () => {
    expect(html`<a title="${EVIL}">x</a>`.text).toBe('<a title="&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quoted&quot; &#39;single&#39;">x</a>');
    expect(tr(['a'], { 'data-node': '"><script>' }).text).toBe('<tr data-node="&quot;&gt;&lt;script&gt;"><td>a</td></tr>');
  });

  it('shows text from an agent or an action as text on every page part', () => {
    const now = new Date('2026-11-26T15:00:00.000Z');
    const action = pendingAction('container-restart-piha-zigbee2mqtt', {
      summary: EVIL,
      result: { status: 'failed', error: { code: 'docker_failed', message: EVIL }, output: EVIL } as never,
    });
    const operator = { name: 'admin', role: 'operator', via: 'session', session: { csrf: 'token' } } as never;
    const services = [{ node: 'piha', service: 'z', status: 'unhealthy', reason: EVIL, detail: EVIL, since: null, desired: true }] as never;
    for (const part of [pendingCard(action, operator, now), historyEntry(action, now), servicesTable(services, now)]) {
      expect(part.text).not.toContain('<img');
      expect(part.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    }
  });
});
