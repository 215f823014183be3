import { FsActionStore } from '@homelab/action-store';
import { emptyWorld, type HostServicesFile, type World } from '@homelab/contracts';
import { createLogger } from '@homelab/logging';
import { loadOrCreateAuth, type InitialCredentials } from './auth/auth-file';
import { AuthState } from './auth/auth-state';
import { hashPassword } from './auth/passwords';
import { LiveBus } from './live';
import { NotifyingActionStore } from './notifying-store';
import { buildWebServer } from './server';

const NO_WORLD = emptyWorld();
const NO_DESIRED = {};
const NO_PROBLEMS: [] = [];
const NO_FINDINGS: [] = [];

/**
 * The web server on a real data root with real files, without broker or
 * loops (unit tests and the summary benchmark). A viewer user `viewer` with
 * password `viewer-password` is added beside the generated admin.
 */
export async function buildTestWeb(opts: {
  root: string;
  world?: () => World;
  desired?: () => Record<string, HostServicesFile>;
  loginMaxFailures?: number;
  telegramWebhook?: (secretToken: string | undefined, update: unknown) => Promise<boolean | null>;
}) {
  const loaded = await loadOrCreateAuth(opts.root);
  const creds = JSON.parse(
    await (await import('node:fs/promises')).readFile(loaded.createdCredentialsFile ?? `${opts.root}/auth/initial-credentials.json`, 'utf8'),
  ) as InitialCredentials;
  loaded.auth.users.push({ name: 'viewer', role: 'viewer', passwordHash: await hashPassword('viewer-password') });
  const live = new LiveBus();
  const store = new NotifyingActionStore(new FsActionStore({ root: opts.root }), () => live.changed('actions'));
  await store.init();
  let decisions = 0;
  let desiredWrites = 0;
  const app = buildWebServer({
    root: opts.root,
    hostsDir: `${opts.root}/hosts`,
    onDesiredWritten: () => desiredWrites++,
    onProposed: () => undefined,
    world: opts.world ?? (() => NO_WORLD),
    // The same objects every call, as the supervisor's (the summary cache compares by identity).
    desired: opts.desired ?? (() => NO_DESIRED),
    problems: () => NO_PROBLEMS,
    findings: () => NO_FINDINGS,
    store,
    onDecision: () => decisions++,
    health: () => ({}),
    auth: new AuthState(opts.root, loaded.auth),
    live,
    log: createLogger('web-test', { level: 'silent' }),
    ...(opts.loginMaxFailures ? { loginMaxFailures: opts.loginMaxFailures } : {}),
    ...(opts.telegramWebhook ? { telegramWebhook: opts.telegramWebhook } : {}),
  });
  return { app, creds, store, live, decisions: () => decisions, desiredWrites: () => desiredWrites };
}
