import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ActionStoreError } from '@homelab/action-store';
import { ERRORS, type ErrorCode } from '@homelab/contracts';
import { pendingAction } from '@homelab/action-store/testing';
import { HubError } from '../errors';
import { answerCodedErrors } from './http-errors';
import { buildTestWeb } from './testing';

describe('one error registry for hub, store and agent errors', () => {
  it.each([
    { err: new ActionStoreError('conflict', 'changed'), status: 409 },
    { err: new ActionStoreError('invalid_transition', 'not pending'), status: 409 },
    { err: new ActionStoreError('invalid_id', 'bad id'), status: 400 },
    { err: new ActionStoreError('io', 'disk full'), status: 500 },
    { err: new HubError('not_found', 'no such node'), status: 404 },
    { err: new HubError('invalid_request', 'bad'), status: 400 },
  ])('answers $err.name $err.code with $status and { error, message }', async ({ err, status }) => {
    const app = Fastify();
    answerCodedErrors(app);
    app.get('/', async () => {
      throw err;
    });
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(status);
    expect(res.statusCode).toBe(ERRORS[err.code as ErrorCode].status);
    expect(res.json()).toEqual({ error: err.code, message: err.message });
    await app.close();
  });

  it.each([
    ['an Error', () => new Error('boom')],
    ['a ZodError thrown by the handler itself (not a refused request)', () => z.object({ a: z.string() }).safeParse({}).error!],
  ])("leaves %s to fastify's own 500 answer", async (_what, make) => {
    const app = Fastify({ logger: false });
    answerCodedErrors(app);
    app.get('/', async () => {
      throw make();
    });
    const res = await app.inject({ url: '/' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ statusCode: 500, error: 'Internal Server Error' });
    await app.close();
  });
});

describe('hub web: a decision the store refuses', () => {
  let root: string;
  let web: Awaited<ReturnType<typeof buildTestWeb>>;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-err-'));
    web = await buildTestWeb({ root });
    await web.store.create(pendingAction('container-restart-piha-zigbee2mqtt'));
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('answers a second approval with the store error code and its registered status', async () => {
    const headers = { authorization: `Bearer ${web.creds.operatorToken}`, 'content-type': 'application/json' };
    const approve = () => web.app.inject({ method: 'POST', url: '/api/actions/container-restart-piha-zigbee2mqtt/approve', headers, payload: '{}' });
    expect((await approve()).statusCode).toBe(200);
    const again = await approve();
    const body = again.json() as { error: ErrorCode; message: string };
    expect(again.statusCode).toBe(ERRORS[body.error].status);
    expect(['conflict', 'invalid_transition']).toContain(body.error);
    expect(again.statusCode).toBe(409);
  });

  it('answers an unknown action with not_found (404)', async () => {
    const res = await web.app.inject({ url: '/api/actions/container-restart-piha-nothing', headers: { authorization: `Bearer ${web.creds.operatorToken}` } });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: 'not_found' });
  });
});
