import { HUB_CLIENT_ID, identify, type Identity } from './acl';
import type { Credential, CredentialsFile } from './credentials';

/** CONNACK return codes of MQTT 3.1.1 (aedes declares them as a const enum, which is not importable at run time). */
export const ConnackCode = { IDENTIFIER_REJECTED: 2, BAD_USERNAME_OR_PASSWORD: 4, NOT_AUTHORIZED: 5 } as const;
type ConnackCode = (typeof ConnackCode)[keyof typeof ConnackCode];

/** What the broker needs of the credential store (CredentialStore, or a fake in tests). */
export interface CredentialCheck {
  verify(username: string, password: Buffer | string): Promise<Credential | null>;
  current(): CredentialsFile;
  /** Re-read the source if it changed (CredentialStore); called once per CONNECT. */
  refresh?(): Promise<void>;
}

export type ConnectDecision =
  | { ok: true; identity: Identity; anonymous: boolean; credential?: { username: string; hash: string } }
  | { ok: false; returnCode: ConnackCode; reason: 'no_credentials' | 'bad_credentials' | 'client_id_mismatch' | 'client_id_taken' };

/**
 * Who may connect, decided once at CONNECT from client id, username and
 * password. Default deny: without a known username and its secret nobody gets
 * in, unless `allowAnonymous` (a development flag) lets unknown clients claim
 * an identity as before credentials existed (acl.ts identify()).
 *
 * A proven identity must also use its own client id: a node connects as
 * `<node>`, the hub as `homelab-hub`, and an inspector with any id that is not
 * somebody's name — aedes drops the existing holder of a client id, so a free
 * choice of id would let anyone kick a node off (docs/security.md,
 * "Client id = username = node name").
 */
export async function decideConnect(
  store: CredentialCheck,
  allowAnonymous: boolean,
  clientId: string,
  username: string | undefined,
  password: Buffer | undefined,
): Promise<ConnectDecision> {
  await store.refresh?.();
  const known = username !== undefined ? store.current().users[username] : undefined;
  if (username === undefined || password === undefined || !known) {
    if (allowAnonymous && !known) return { ok: true, identity: identify(clientId, username), anonymous: true };
    return username === undefined
      ? { ok: false, returnCode: ConnackCode.NOT_AUTHORIZED, reason: 'no_credentials' }
      : { ok: false, returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, reason: 'bad_credentials' };
  }
  const cred = await store.verify(username, password);
  if (!cred) return { ok: false, returnCode: ConnackCode.BAD_USERNAME_OR_PASSWORD, reason: 'bad_credentials' };
  switch (cred.role) {
    case 'node':
      if (clientId !== username) return { ok: false, returnCode: ConnackCode.IDENTIFIER_REJECTED, reason: 'client_id_mismatch' };
      return { ok: true, identity: { kind: 'node', node: username }, anonymous: false, credential: { username, hash: cred.scrypt } };
    case 'hub':
      if (clientId !== HUB_CLIENT_ID) return { ok: false, returnCode: ConnackCode.IDENTIFIER_REJECTED, reason: 'client_id_mismatch' };
      return { ok: true, identity: { kind: 'hub' }, anonymous: false, credential: { username, hash: cred.scrypt } };
    case 'inspector':
    case 'homeassistant': {
      // HA picks a random client id unless told otherwise: any id that is nobody else's name.
      const taken = clientId === HUB_CLIENT_ID || (clientId !== username && store.current().users[clientId] !== undefined);
      if (taken) return { ok: false, returnCode: ConnackCode.IDENTIFIER_REJECTED, reason: 'client_id_taken' };
      return { ok: true, identity: { kind: cred.role }, anonymous: false, credential: { username, hash: cred.scrypt } };
    }
  }
}
