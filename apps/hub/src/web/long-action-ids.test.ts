import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION_ID_MAX_LENGTH, ActionId } from '@homelab/contracts';
import { pendingAction } from '@homelab/action-store/testing';
import { buildTestWeb } from './testing';

type Web = Awaited<ReturnType<typeof buildTestWeb>>;

/** The longest id the contracts allow, and the id of two 63-character names. */
const LONGEST = `a${'-'.repeat(ACTION_ID_MAX_LENGTH - 2)}z`;
const NODE = `n${'o'.repeat(61)}1`;
const SERVICE = `s${'v'.repeat(61)}1`;
const RESTART = `container-restart-${NODE}-${SERVICE}`;

describe('hub web: every action id the contracts allow', () => {
  let root: string;
  let web: Web;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-ids-'));
    web = await buildTestWeb({ root });
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });
  const as = () => ({ authorization: `Bearer ${web.creds.operatorToken}` });

  it('is valid at the declared maximum length and not beyond', () => {
    expect(ActionId.safeParse(LONGEST).success).toBe(true);
    expect(ActionId.safeParse(`${LONGEST}x`).success).toBe(false);
    expect(RESTART.length).toBe(145);
  });

  it.each([
    ['a restart of a 63-character service on a 63-character node', RESTART],
    ['the longest id', LONGEST],
  ])('shows and approves %s', async (_what, id) => {
    await web.store.create(pendingAction(id, { node: NODE, service: SERVICE }));
    const shown = await web.app.inject({ url: `/api/actions/${id}`, headers: as() });
    expect(shown.statusCode).toBe(200);
    expect(shown.json().id).toBe(id);
    const approved = await web.app.inject({
      method: 'POST',
      url: `/api/actions/${id}/approve`,
      headers: { ...as(), 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(approved.statusCode).toBe(200);
    expect(approved.json().state).toBe('approved');
  });

  it('rejects a pending action with a 145-character id', async () => {
    await web.store.create(pendingAction(RESTART, { node: NODE, service: SERVICE }));
    const res = await web.app.inject({
      method: 'POST',
      url: `/api/actions/${RESTART}/reject`,
      headers: { ...as(), 'content-type': 'application/json' },
      payload: '{}',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().state).toBe('rejected');
  });
});
