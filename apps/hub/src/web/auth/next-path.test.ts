import { describe, expect, it } from 'vitest';
import { safeNext } from './next-path';

describe('the page a login returns to (next)', () => {
  it.each([
    ['/actions', '/actions'],
    ['/nodes/piha', '/nodes/piha'],
    ['/events?node=piha&type=service_unhealthy', '/events?node=piha&type=service_unhealthy'],
    ['/history?state=failed', '/history?state=failed'],
    ['/', '/'],
  ])('keeps the local path %j', (next, want) => {
    expect(safeNext(next)).toBe(want);
  });

  it.each([
    ['tab before a second slash', '/\t/evil.example'],
    ['newline before a second slash', '/\n/evil.example'],
    ['CR LF (a header split)', '/x\r\nset-cookie: a=b'],
    ['a lone CR', '/x\rfoo'],
    ['protocol-relative', '//evil.example'],
    ['backslash', '/\\evil.example'],
    ['backslash later', '/a\\b'],
    ['double slash later', '/a//evil.example'],
    ['absolute URL', 'https://evil.example/'],
    ['scheme', 'javascript:alert(1)'],
    ['relative path', 'actions'],
    ['space', '/a b'],
    ['NUL', '/a\u0000b'],
    ['DEL', '/a\u007fb'],
    ['U+2028', '/a\u2028b'],
    ['non-ASCII', '/ä'],
    ['a fragment', '/a#b'],
    ['empty', ''],
    ['missing', undefined],
    ['too long', `/${'a'.repeat(2000)}`],
  ])('answers / for %s', (_what, next) => {
    expect(safeNext(next)).toBe('/');
  });
});
