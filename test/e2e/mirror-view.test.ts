import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MirrorSummary } from '@homelab/contracts';
import { freePort, makeTempDir, waitFor, type LoggedProcess, type TempDir } from '@homelab/testkit';
import { homelab, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/**
 * The node side of the mirror (docs/ui-api.md, "Mirror's page"): a real hub,
 * a real `homelab mirror --serve`, then the hub stopped — the node's page
 * still answers with the last copy and says how old it is.
 */
describe("the mirror's read-only page on a node", () => {
  let tmp: TempDir;
  let hub: HubProcess;
  let mirror: LoggedProcess;
  let pageUrl: string;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-mirror-view-');
    const hosts = path.join(tmp.path, 'hosts');
    await writeHosts(hosts, { piha: 'node: piha\nservices:\n  zigbee2mqtt:\n    containers: [zigbee2mqtt]\n' });
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir: hosts, name: 'mirror-view-hub' });
    const port = await freePort();
    pageUrl = `http://127.0.0.1:${port}`;
    mirror = homelab(['mirror', '--from', hub.httpUrl, '--to', path.join(tmp.path, 'copy'), '--interval', '300ms', '--serve', '--port', String(port)], {
      name: 'mirror-view-mirror',
      env: { HOMELAB_TOKEN: hub.auth.viewerToken, LOG_LEVEL: 'info' },
    });
    await mirror.waitForOutput('read-only page', 30_000);
  }, 120_000);

  afterAll(async () => {
    await mirror?.stop();
    await hub?.proc.stop();
    await tmp?.cleanup();
  });

  it('keeps answering with the last copy after the hub stops, saying whose copy it is and since when', async () => {
    const live = await waitFor(
      async () => {
        const res = await fetch(`${pageUrl}/summary`);
        return res.status === 200 ? MirrorSummary.parse(await res.json()) : null;
      },
      { timeoutMs: 30_000, what: 'first copy served' },
    );
    expect(live.mirror).toMatchObject({ hub: hub.httpUrl, ok: true, readOnly: true });
    expect(live.nodes.map((n) => n.node)).toContain('piha');

    expect(await hub.proc.stop()).toBe(0);
    const stale = await waitFor(
      async () => {
        const s = MirrorSummary.parse(await (await fetch(`${pageUrl}/summary`)).json());
        return s.mirror.ok === false ? s : null;
      },
      { timeoutMs: 30_000, what: 'the mirror noticing the hub is down' },
    );
    expect(stale.mirror.lastSuccess).not.toBeNull();
    expect(stale.mirror.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(stale.nodes.map((n) => n.node)).toContain('piha');

    const page = await fetch(`${pageUrl}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`Read-only copy of <strong>${hub.httpUrl}</strong>`);
    expect(html).toMatch(/copied\s*<time datetime="[^"]+"[^>]*>(\d+ s|\d+ min) ago<\/time>/);
    expect(html).toContain('The hub has not answered since then');
    expect(html).toContain('/nodes/piha');
    expect(html).toContain('id="copy-ai"');

    const md = await (await fetch(`${pageUrl}/summary?format=markdown`)).text();
    expect(md).toMatch(/^# homelab status /);
    expect(md).toContain(`Read-only copy of ${hub.httpUrl}, copied `);
    expect(md).toContain('## Problems');
    expect((await fetch(`${pageUrl}/assets/app.js`)).status).toBe(200);
  }, 90_000);
});
