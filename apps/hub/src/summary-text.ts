/**
 * Node-supplied text (disk mounts, details, probe names, container states,
 * images, event ids, command output) where the summary shows it: in the JSON
 * of `GET /summary` and in its Markdown ("Copy for AI"). A node must not be
 * able to forge lines, sections or markup there (docs/ui-api.md "Text from
 * nodes"), so every such string goes through plainText; the Markdown adds
 * its own escapes on top (markdownText).
 */

/**
 * What could end a line, hide text or reorder it where a string is shown:
 * C0 and C1 controls, DEL, zero-width and bidi format characters, and the
 * line and paragraph separators U+2028/U+2029.
 */
const UNSAFE_CHAR = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;
const UNSAFE_ALL = new RegExp(UNSAFE_CHAR.source, 'g');
const UNSAFE_BUT_NEWLINE = /(?!\n)[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const visible = (c: string) => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** True when plainText would change `s` (undefined: nothing to escape). */
export const needsEscape = (s: string | undefined): boolean => s !== undefined && UNSAFE_CHAR.test(s);

/**
 * One line of visible text: each unsafe character becomes a visible escape
 * (`\n`, `\r`, `\t`, `\u2028`, …); everything else is kept. `lines` keeps
 * LF for multi-line text such as command output. Returns `s` itself when
 * there is nothing to escape (the common case; the summary of a big fleet
 * passes every string through here).
 */
export function plainText(s: string, opts: { lines?: boolean } = {}): string {
  if (!needsEscape(s)) return s;
  return s.replace(opts.lines ? UNSAFE_BUT_NEWLINE : UNSAFE_ALL, visible);
}

/**
 * Markdown syntax a string could open inside a line: code spans, emphasis,
 * links and images, raw HTML and autolinks, headings, tables, strikethrough,
 * entities, and the escape character itself (CommonMark backslash escapes).
 * `_` is left alone: it is common inside names and does not emphasize there.
 */
const MARKDOWN_SYNTAX = /[\\`*[\]<>#|~&]/g;

/** Node-supplied text for the Markdown summary: Markdown syntax escaped first, then plainText. */
export function markdownText(s: string): string {
  return plainText(s.replace(MARKDOWN_SYNTAX, '\\$&'));
}
