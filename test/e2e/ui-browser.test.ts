import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FsActionStore } from '@homelab/action-store';
import { makeTempDir, startMosquitto, waitFor, type LoggedProcess, type MosquittoHandle, type TempDir } from '@homelab/testkit';
import { pendingAction } from '@homelab/action-store/testing';
import { ARTIFACTS, startAgentProcess, startHubProcess, writeHosts, type HubProcess } from '../support/stack';

/** Debian's Chromium (test/setup/ensure-deps.sh installs it), driven by playwright-core. */
export const CHROMIUM = process.env.HOMELAB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];
const SHOTS = path.join(ARTIFACTS, 'ui');
const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;

/**
 * The operator's path through the UI in a real browser, against a real hub,
 * agent, Mosquitto and Docker engine: sign in → a container stops → the
 * service and its action appear without a reload → approve → the restart
 * completes and shows in the history with its audit → "Copy for AI".
 */
describe('the hub UI in Chromium', () => {
  const docker = new Docker({ socketPath: inject('dockerSocket') });
  const containerName = `hl-ui-z2m-${process.pid}`;
  const actionId = 'container-restart-piha-zigbee2mqtt';
  let tmp: TempDir;
  let mosquitto: MosquittoHandle;
  let hub: HubProcess;
  let agent: LoggedProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    tmp = await makeTempDir('hl-ui-');
    await fs.mkdir(SHOTS, { recursive: true });
    await (
      await docker.createContainer({ name: containerName, Image: inject('busyboxImage'), Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: 'none' } })
    ).start();
    const hostsDir = path.join(tmp.path, 'hosts');
    await writeHosts(hostsDir, { piha: `node: piha\nservices:\n  zigbee2mqtt:\n    containers: [${containerName}]\n` });
    mosquitto = await startMosquitto();
    hub = await startHubProcess({ root: path.join(tmp.path, 'root'), hostsDir, name: 'ui-hub', mqttUrl: mosquitto.url });
    agent = await startAgentProcess({
      node: 'piha',
      mqttUrl: mosquitto.url,
      dockerSocket: inject('dockerSocket'),
      stateDir: path.join(tmp.path, 'agent'),
      name: 'ui-agent',
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    context = await browser.newContext({ baseURL: hub.httpUrl, viewport: VIEWPORTS.desktop });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: hub.httpUrl });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await hub?.proc.stop();
    await mosquitto?.stop();
    await docker
      .getContainer(containerName)
      .remove({ force: true })
      .catch(() => undefined);
    await tmp?.cleanup();
  });

  const service = (status: string) => `tr[data-service="piha/zigbee2mqtt"][data-status="${status}"]`;

  it('sends an unauthenticated visitor to the login and signs the operator in', async () => {
    await page.goto('/');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('input[name=user]', 'admin');
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await expect(page.locator('.error').textContent()).resolves.toContain('wrong user or password');
    await page.fill('input[name=user]', 'admin');
    await page.fill('input[name=password]', hub.auth.password!);
    await page.click('button[type=submit]');
    await page.waitForURL((u) => u.pathname === '/');
    await page.locator(service('healthy')).waitFor({ timeout: 30_000 });
    const cookie = (await context.cookies()).find((c) => c.name === 'homelab_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
  });

  it('shows a stopped container as unhealthy, its pending action and its event live, without a reload', async () => {
    await page.locator('#live.on').waitFor({ timeout: 10_000 });
    await page.evaluate('window.marker = "same page"'); // page code runs in the browser (no DOM types here)
    const feed = await context.newPage();
    await feed.goto('/events?node=piha&type=service_unhealthy');
    await feed.locator('#live.on').waitFor({ timeout: 10_000 });

    await docker.getContainer(containerName).stop({ t: 0 });

    await page.locator(service('unhealthy')).waitFor({ timeout: 30_000 });
    await page.locator(`[data-action-id="${actionId}"][data-state="pending"]`).waitFor({ timeout: 30_000 });
    expect(await page.locator(service('unhealthy')).textContent()).toContain('containers_not_running');
    expect(await page.evaluate('window.marker')).toBe('same page');
    const row = feed.locator('#event-rows tr', { hasText: 'containers_not_running' }).first();
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('zigbee2mqtt');
    await feed.close();
  });

  it('approves the action from the Actions page and shows it completed with its audit in the history', async () => {
    await page.click('header a[href="/actions"]');
    const card = page.locator(`[data-action-id="${actionId}"][data-state="pending"]`);
    await card.waitFor();
    expect(await card.textContent()).toContain('Why:');
    await card.locator('button[data-action="approve"]').click();
    await card.waitFor({ state: 'detached', timeout: 30_000 });
    await waitFor(async () => (await docker.getContainer(containerName).inspect()).State.Running, { timeoutMs: 30_000, what: 'container running again' });

    await page.click('header a[href="/history"]');
    const entry = page.locator(`details[data-action-id="${actionId}"][data-state="completed"]`).first();
    await waitFor(async () => (await entry.count()) > 0 || (await page.reload(), false), {
      timeoutMs: 30_000,
      intervalMs: 1000,
      what: 'completed action in the history',
    });
    await entry.locator('summary').click();
    const text = (await entry.textContent())!;
    expect(text).toContain('admin'); // the session user approved it
    expect(text).toMatch(/pending[\s\S]*approved[\s\S]*running[\s\S]*completed/);
    await page.locator(service('healthy')).count(); // (history page has no services table)

    // The action's own page: event → drift → action → command → result, each event a link.
    await entry.locator(`a[href="/actions/${actionId}"]`).click();
    const chain = page.locator('#chain');
    await chain.waitFor();
    const steps = (await chain.textContent())!;
    expect(steps).toMatch(
      /1\. Events[\s\S]*service_unhealthy[\s\S]*2\. Drift[\s\S]*3\. Action[\s\S]*approved[\s\S]*by admin[\s\S]*4\. Command[\s\S]*sent[\s\S]*5\. Result[\s\S]*completed/,
    );
    await chain.locator('a[href^="/events?node=piha&id="]').first().click();
    await page.locator('#event-rows tr', { hasText: 'service_unhealthy' }).first().waitFor();
    expect(await page.locator('#event-rows tr').count()).toBe(1);

    await page.goto('/');
    await page.locator(service('healthy')).waitFor({ timeout: 30_000 });
  });

  it('restarts a healthy service from its node page: proposed by the operator, approved, run, and audited', async () => {
    const store = new FsActionStore({ root: hub.root });
    const startedBefore = (await docker.getContainer(containerName).inspect()).State.StartedAt;
    await page.goto('/nodes/piha');
    await page.click('button[data-propose="container_restart/zigbee2mqtt"]');
    await page.waitForURL((u) => u.pathname === '/actions');
    const card = page.locator(`[data-action-id="${actionId}"][data-state="pending"]`);
    await card.waitFor({ timeout: 10_000 });
    expect(await card.textContent()).toContain('restart requested by admin');
    await card.locator('button[data-action="approve"]').click();
    await card.waitFor({ state: 'detached', timeout: 30_000 });
    const done = await waitFor(
      async () => {
        const a = await store.get(actionId);
        return a?.state === 'completed' && a.audit.at(-1)?.state === 'completed' ? a : null;
      },
      { timeoutMs: 30_000, what: 'the manual restart completed' },
    );
    expect(done.drift.type).toBe('operator_request');
    expect(done.audit.map((e) => [e.state, e.by, e.via])).toEqual([
      ['pending', 'admin', 'api'],
      ['approved', 'admin', 'api'],
      ['running', 'executor', 'executor'],
      ['completed', 'executor', 'executor'],
    ]);
    expect(done.audit[0]!.from?.userAgent).toMatch(/Chrome/);
    expect((await docker.getContainer(containerName).inspect()).State.StartedAt).not.toBe(startedBefore);
  });

  it('asks for a confirmation before approving a guarded action', async () => {
    const store = new FsActionStore({ root: hub.root });
    // A disk cleanup: guarded, and (having no service) never auto-cancelled by the supervisor.
    const id = 'disk-cleanup-piha';
    const firstSeen = new Date().toISOString();
    await store.create(
      pendingAction(id, {
        type: 'disk_cleanup',
        risk: 'guarded',
        service: undefined,
        summary: 'piha: disk / at 93% (high); clean up',
        drift: { type: 'disk_pressure', eventIds: [], firstSeen },
      }),
    );
    const card = page.locator(`[data-action-id="${id}"][data-state="pending"]`);
    await waitFor(async () => (await page.goto('/actions'), (await card.count()) > 0), {
      timeoutMs: 10_000,
      intervalMs: 500,
      what: 'guarded action on the page',
    });
    let asked = '';
    page.once('dialog', (d) => {
      asked = d.message();
      void d.dismiss();
    });
    await card.locator('button[data-action="approve"]').click();
    await waitFor(() => asked, { what: 'confirmation dialog' });
    expect(asked).toContain('Approve guarded disk_cleanup');
    expect((await store.get(id))!.state).toBe('pending');
    await card.locator('button[data-action="reject"]').click();
    await waitFor(async () => (await store.get(id))?.state === 'rejected', { what: 'rejected' });
  });

  it('puts the markdown summary on the clipboard with "Copy for AI"', async () => {
    await page.goto('/');
    await page.click('#copy-ai');
    await page.locator('#toast.show').waitFor();
    const text = await page.evaluate<string>('navigator.clipboard.readText()');
    expect(text).toMatch(/^# homelab status /);
    expect(text).toContain('## Problems');
    expect(text).toContain('## Pending actions');
    const served = await (await hub.api('/summary?format=markdown', { token: hub.auth.viewerToken })).text();
    expect(text.split('\n').slice(2).join('\n')).toBe(served.split('\n').slice(2).join('\n'));
  });

  it('renders every page at desktop and phone width without sideways scrolling (screenshots in test-artifacts/ui)', async () => {
    for (const [name, size] of Object.entries(VIEWPORTS)) {
      await page.setViewportSize(size);
      for (const [slug, url] of [
        ['fleet', '/'],
        ['actions', '/actions'],
        ['history', '/history'],
        ['events', '/events'],
        ['node-piha', '/nodes/piha'],
      ] as const) {
        await page.goto(url);
        await page.locator('main h1').waitFor();
        await page.screenshot({ path: path.join(SHOTS, `${slug}-${name}.png`), fullPage: true });
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        expect(overflow, `${url} at ${name} width`).toBeLessThanOrEqual(1);
      }
    }
    const anon = await browser.newContext({ baseURL: hub.httpUrl, viewport: VIEWPORTS.phone });
    const login = await anon.newPage();
    await login.goto('/login');
    await login.screenshot({ path: path.join(SHOTS, 'login-phone.png') });
    await anon.close();
    await page.setViewportSize(VIEWPORTS.desktop);
  });

  it('refuses mutations from a page of another origin and requests without credentials', async () => {
    expect(
      (await fetch(`${hub.httpUrl}/api/actions/${actionId}/approve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
    ).toBe(401);
    expect((await hub.api(`/api/actions/${actionId}/approve`, { method: 'POST', body: '{}', token: hub.auth.viewerToken })).status).toBe(403);
    // The browser's own cookie, but no CSRF token: refused.
    const status = await page.evaluate(
      async (id) => (await fetch(`/api/actions/${id}/reject`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
      actionId,
    );
    expect(status).toBe(403);
  });
});
