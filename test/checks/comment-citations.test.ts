import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { badCitations, citationProblems, hashComments, proseOf, scriptComments, sectionsOf, type ReadDoc } from './comment-citations';

const ROOT = path.resolve(import.meta.dirname, '../..');

const DOCS: Record<string, string> = {
  'docs/actions.md': '# Actions\n\n## States\n\n### Deadlines and clock skew\n\n**Unreadable files.** moved aside\n',
  'apps/node-agent/README.md': '# agent\n',
};
const readDoc: ReadDoc = (p) => DOCS[p] ?? null;
const problems = (text: string, file = 'apps/hub/src/x.ts') => citationProblems({ file, line: 1, text }, readDoc);

describe('citations in a comment', () => {
  it.each([
    ['// A doc of this repository (docs/actions.md).'],
    ['/** One durable step (docs/actions.md, "States"). */'],
    ['// docs/actions.md "Deadlines and clock skew"'],
    ['// bold leads count as sections: docs/actions.md "Unreadable files"'],
    ['/**\n * a section name split over lines (docs/actions.md, "Deadlines\n * and clock skew").\n */'],
    ["// a path from the file's folder: ../README.md", 'apps/node-agent/src/x.ts'],
    ['// the same seed gives the same numbers'],
    ['// the issuedAt of a command; a shared reader'],
    ['// nothing cited at all'],
  ])('are accepted: %s', (text, file?: string) => {
    expect(problems(text, file)).toEqual([]);
  });

  it.each([
    ['// (BRIEF.md "Data root")', 'cites BRIEF'],
    ['/** see BRIEF: real components */', 'cites BRIEF'],
    ['// (RELIABILITY.md, test 6)', 'cites RELIABILITY'],
    ["// the seed's default", 'cites the seed'],
    ['// approves nothing (seed)', 'cites the seed'],
    ['// as the seed requires', 'cites the seed'],
    ['// (../shared/notes.md)', 'shared/'],
    ['// /work/shared/BRIEF.md', 'outside this repository'],
    ['// after an outage (issue 3)', 'cites an issue'],
    ['// Issue 8 / item 4', 'cites an issue'],
    ['// as the issue says', 'cites an issue'],
    ['// docs/missing.md', 'cites docs/missing.md, which does not exist'],
    ['// docs/actions.md "Commands"', 'cites section "Commands" of docs/actions.md'],
    ['// NOTES.md', 'cites NOTES.md, which does not exist'],
  ])('are refused: %s', (text, problem) => {
    expect(problems(text).join('; ')).toContain(problem);
  });
});

describe('finding comments', () => {
  it('takes the comments of a script, never the text of its strings or regular expressions', () => {
    const text = [
      "const url = 'http://x/BRIEF.md'; // trailing",
      '/** block */',
      'const re = /\\/\\/ not a comment/;',
      'const t = `/* nor this */`;',
      '// last',
    ].join('\n');
    expect(scriptComments('a.ts', text).map((c) => [c.line, c.text])).toEqual([
      [1, '// trailing'],
      [2, '/** block */'],
      [5, '// last'],
    ]);
  });

  it('takes # comments of shell, YAML and Dockerfiles, but not the shebang or ${#array}', () => {
    const text = ['#!/usr/bin/env bash', '# whole line', 'if ((${#pkgs[@]})); then x; fi # line end', 'key: value'].join('\n');
    expect(hashComments('a.sh', text).map((c) => c.text)).toEqual(['# whole line', '# line end']);
  });

  it('reads headings and bold leads as section names', () => {
    expect(sectionsOf(DOCS['docs/actions.md']!)).toEqual(['actions', 'states', 'deadlines and clock skew', 'unreadable files.']);
    expect(proseOf('/**\n * One\n * two. */')).toBe('One two.');
  });
});

describe('comments of this repository', () => {
  it('cite only documents of this repository, by paths and sections that exist', () => {
    const found = badCitations(ROOT).map((b) => `${b.file}:${b.line}: ${b.problem}`);
    expect(found).toEqual([]);
  });
});
