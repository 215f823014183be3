import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildTestWeb } from './testing';

type Web = Awaited<ReturnType<typeof buildTestWeb>>;

describe('hub web: where a login sends the browser', () => {
  let root: string;
  let web: Web;
  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'hl-web-next-'));
    web = await buildTestWeb({ root });
  });
  afterEach(async () => {
    await web.app.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const formLogin = (next: string) =>
    web.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ user: 'admin', password: web.creds.password!, next }).toString(),
    });

  it.each(['/\t/evil.example', '/\n/evil.example', '/x\r\nset-cookie: stolen=1', '/\\evil.example', '//evil.example'])(
    'redirects a login with next=%j to / and nowhere else',
    async (next) => {
      const res = await formLogin(next);
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe('/');
      expect(String(res.headers['set-cookie'])).not.toContain('stolen');
    },
  );

  it('redirects to the page the guard sent the browser from', async () => {
    const res = await formLogin('/events?node=piha&type=service_unhealthy');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/events?node=piha&type=service_unhealthy');
  });

  it('puts only a safe next into the login form', async () => {
    const page = await web.app.inject({ url: `/login?next=${encodeURIComponent('/\t/evil.example')}` });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="next" value="/"');
  });
});
