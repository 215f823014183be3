import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pendingAction } from '@homelab/action-store/testing';
import { buildTestWeb } from './testing';

const ID = 'container-restart-piha-zigbee2mqtt';

describe('hub web: routes declared with zod schemas, OpenAPI generated from them', () => {
  let root: string;
  let web: Awaited<ReturnType<typeof buildTestWeb>>;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-api-'));
    web = await buildTestWeb({ root });
    await web.store.create(pendingAction(ID));
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  const operator = () => ({ authorization: `Bearer ${web.creds.operatorToken}` });
  const viewer = () => ({ authorization: `Bearer ${web.creds.viewerToken}` });
  const doc = async () => (await web.app.inject({ url: '/api/openapi.json', headers: viewer() })).json();

  it('documents every API route with its method, and no page', async () => {
    const paths = (await doc()).paths as Record<string, Record<string, unknown>>;
    const documented = Object.entries(paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
      .sort();
    expect(documented).toEqual(
      [
        'GET /healthz',
        'GET /summary',
        'GET /api/world',
        'GET /api/me',
        'GET /api/actions',
        'GET /api/actions/{id}',
        'POST /api/actions/{id}/approve',
        'POST /api/actions/{id}/reject',
        'GET /api/events',
        'GET /api/stream',
        'GET /api/nodes/{node}/adopt',
        'POST /api/actions',
        'POST /api/nodes/{node}/adopt',
        'POST /login',
        'POST /logout',
      ].sort(),
    );
  });

  it('takes parameters, bodies and answers from the route schemas', async () => {
    const d = await doc();
    const approve = d.paths['/api/actions/{id}/approve'].post;
    expect(approve.parameters).toEqual([expect.objectContaining({ in: 'path', name: 'id', required: true })]);
    expect(JSON.stringify(approve.requestBody)).toContain('#/components/schemas/DecisionBody');
    expect(approve.responses['200'].content['application/json'].schema.$ref).toBe('#/components/schemas/Action');
    expect(Object.keys(approve.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409']));
    expect(approve.responses['409'].description).toMatch(/conflict/);
    expect(d.paths['/api/actions'].get.parameters.map((p: { name: string }) => p.name)).toEqual(['state']);
    expect(d.paths['/healthz'].get.security).toEqual([]);
    expect(Object.keys(d.paths['/summary'].get.responses['200'].content)).toEqual(['application/json', 'text/markdown']);
  });

  it('serves the browsable API UI behind the same guard as every route', async () => {
    expect((await web.app.inject({ url: '/api/docs', headers: { accept: 'text/html' } })).headers.location).toBe('/login?next=%2Fapi%2Fdocs');
    expect((await web.app.inject({ url: '/api/docs/json' })).statusCode).toBe(401);
    const page = await web.app.inject({ url: '/api/docs', headers: viewer() });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect((await web.app.inject({ url: '/api/docs/json', headers: viewer() })).json().paths['/api/world']).toBeDefined();
  });

  it('refuses a viewer or a cross-site request before it looks at the body (403, not 400)', async () => {
    const bad = { 'content-type': 'application/json' };
    const asViewer = await web.app.inject({ method: 'POST', url: `/api/actions/${ID}/approve`, headers: { ...viewer(), ...bad }, payload: '{"by":""}' });
    expect(asViewer.statusCode).toBe(403);
    expect(asViewer.json().error).toBe('forbidden');
  });

  it('answers a path parameter that does not parse with the route’s own code and message', async () => {
    const res = await web.app.inject({ url: '/api/actions/NOT_AN_ID', headers: operator() });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_id', message: 'not a valid action id' });
    const node = await web.app.inject({ url: '/nodes/Bad.Node', headers: operator() });
    expect(node.statusCode).toBe(400);
    expect(node.json()).toEqual({ error: 'invalid_request', message: 'not a valid node name' });
  });

  it('answers a query or body that does not parse with invalid_request and zod’s explanation', async () => {
    const res = await web.app.inject({ url: '/api/events?limit=0', headers: operator() });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_request');
    expect(res.json().message).toMatch(/limit/);
    const body = await web.app.inject({
      method: 'POST',
      url: `/api/actions/${ID}/approve`,
      headers: { ...operator(), 'content-type': 'application/json' },
      payload: '{"note":5}',
    });
    expect(body.statusCode).toBe(400);
    expect(body.json().message).toMatch(/note/);
    // Empty filter values from a form mean "any".
    expect((await web.app.inject({ url: '/api/events?node=&type=', headers: operator() })).statusCode).toBe(200);
    // No body at all is an empty decision.
    const none = await web.app.inject({ method: 'POST', url: `/api/actions/${ID}/reject`, headers: operator() });
    expect(none.statusCode).toBe(200);
    expect(none.json().state).toBe('rejected');
  });
});
