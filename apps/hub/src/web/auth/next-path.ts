/**
 * Where the login sends the browser afterwards (`next`): only a path of this
 * hub, or `/`. Browsers drop tab, CR and LF from a URL and read `\` as `/`, so
 * `/<TAB>/evil.example` or `/\evil.example` would leave the site, and CR/LF
 * would break the `Location` header; a single leading `/`, no `//` anywhere
 * and only the characters a path and query need (RFC 3986 pchar, `/`, `?`)
 * leave no such way (docs/ui-api.md "Where a login returns to").
 */
const LOCAL_PATH = /^\/(?!\/)[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*$/;

export function safeNext(next: string | undefined): string {
  if (!next || next.length > 2000 || !LOCAL_PATH.test(next) || next.includes('//')) return '/';
  return next;
}
