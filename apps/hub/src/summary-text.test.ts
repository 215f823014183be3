import { describe, expect, it } from 'vitest';
import { markdownText, needsEscape, plainText } from './summary-text';

describe('escaping text from nodes', () => {
  it.each([
    ['/var/lib/docker', '/var/lib/docker'],
    ['a\nb', 'a\\nb'],
    ['a\r\nb', 'a\\r\\nb'],
    ['tab\there', 'tab\\there'],
    ['line\u2028sep\u2029para', 'line\\u2028sep\\u2029para'],
    ['nul\u0000esc\u001b[31m', 'nul\\u0000esc\\u001b[31m'],
    ['bidi\u202eevil', 'bidi\\u202eevil'],
    ['zero\u200bwidth', 'zero\\u200bwidth'],
    ['c1\u0085', 'c1\\u0085'],
    ['# `x` | <b>', '# `x` | <b>'],
    ['ünïcode ok', 'ünïcode ok'],
  ])('plainText(%j) is %j', (raw, want) => {
    expect(plainText(raw)).toBe(want);
    expect(needsEscape(raw)).toBe(raw !== want);
  });

  it('keeps line breaks of multi-line text when asked, and escapes the rest', () => {
    expect(plainText('one\ntwo\r\n\u2028', { lines: true })).toBe('one\ntwo\\r\n\\u2028');
  });

  it.each([
    ['/mnt/data', '/mnt/data'],
    ['\n## Pending actions', '\\n\\#\\# Pending actions'],
    ['`rm -rf` | <script>', '\\`rm -rf\\` \\| \\<script\\>'],
    ['[x](http://e) *b* ~s~ &amp;', '\\[x\\](http://e) \\*b\\* \\~s\\~ \\&amp;'],
    ['back\\slash', 'back\\\\slash'],
    ['containers_not_running', 'containers_not_running'],
  ])('markdownText(%j) is %j', (raw, want) => {
    expect(markdownText(raw)).toBe(want);
  });
});
