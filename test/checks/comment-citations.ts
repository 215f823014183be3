import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Comments cite documents of this repository or nothing (docs/architecture.md,
 * "Boundaries"): a reader must be able to open what a comment points to. This
 * finds the comments of the source tree and what each cites that cannot be
 * opened here.
 */

export interface Comment {
  file: string;
  line: number;
  text: string;
}

export interface BadCitation extends Comment {
  problem: string;
}

/** Where the source lives whose comments are checked, from the repository root. */
export const CHECKED_FOLDERS = ['apps', 'libs', 'test', 'deploy', 'hosts'];

/** Documents that are not in this repository, by how comments have named them. */
const OUTSIDE: { pattern: RegExp; problem: string }[] = [
  { pattern: /\bBRIEF\b/, problem: 'cites BRIEF, which is not in this repository' },
  { pattern: /\bRELIABILITY\b/, problem: 'cites RELIABILITY, which is not in this repository' },
  { pattern: /\bthe seed\b|\bseed's\b|\(seed\b/i, problem: 'cites the seed, which is not in this repository' },
  { pattern: /\bshared\//, problem: 'cites a file under shared/, which is not in this repository' },
  { pattern: /\/work\/|\/home\//, problem: 'cites a path outside this repository' },
  { pattern: /\bissues?\s*#?\d+|\b(the|this) issue\b/i, problem: 'cites an issue; say what it needs here or in docs/' },
];

const MD_PATH = /(?<![\w/.-])((?:\.{1,2}\/)*[\w.-]+(?:\/[\w.-]+)*\.md)\b/g;
/** A doc path followed by a quoted section name, with or without a comma between. */
const DOC_SECTION = /(?<![\w/.-])(docs\/[\w.-]+\.md),?\s+["“]([^"”]+)["”]/g;

/** The words of a comment on one line, without its markers (`//`, `/*`, ` * `, `#`). */
export function proseOf(comment: string): string {
  return comment
    .split('\n')
    .map((line) => line.replace(/^\s*(\/\/+|\/\*+|\*+(?!\/)|#+)?/, '').replace(/\*+\/\s*$/, ''))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Headings and bold paragraph leads of a markdown document, lower-cased. */
export function sectionsOf(markdown: string): string[] {
  const out: string[] = [];
  for (const line of markdown.split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) out.push(heading[1]!.trim().toLowerCase());
    for (const bold of line.matchAll(/\*\*([^*]+)\*\*/g)) out.push(bold[1]!.trim().toLowerCase());
  }
  return out;
}

/** A document of the repository as the check sees it: null when there is no such file. */
export type ReadDoc = (repoPath: string) => string | null;

/**
 * What is wrong with the citations of one comment: documents from outside the
 * repository, markdown paths that do not exist (from the repository root or
 * from the file's folder), and quoted sections a cited doc does not have.
 */
export function citationProblems(comment: Comment, readDoc: ReadDoc): string[] {
  const text = proseOf(comment.text);
  const problems: string[] = [];
  for (const { pattern, problem } of OUTSIDE) if (pattern.test(text)) problems.push(problem);
  for (const m of text.matchAll(MD_PATH)) {
    const cited = m[1]!;
    if (/^(BRIEF|RELIABILITY)\.md$/.test(path.posix.basename(cited))) continue; // reported above
    const fromRoot = path.posix.normalize(cited);
    const fromFile = path.posix.normalize(path.posix.join(path.posix.dirname(comment.file), cited));
    if (readDoc(fromRoot) === null && readDoc(fromFile) === null) problems.push(`cites ${cited}, which does not exist`);
  }
  for (const m of text.matchAll(DOC_SECTION)) {
    const [, doc, section] = m;
    const body = readDoc(doc!);
    if (body === null) continue;
    const wanted = section!
      .trim()
      .replace(/[.,:;]$/, '')
      .toLowerCase();
    if (!sectionsOf(body).some((s) => s.startsWith(wanted))) problems.push(`cites section "${section}" of ${doc}, which has no such heading`);
  }
  return problems;
}

/** Comments of a TypeScript or JavaScript file, found by the TypeScript parser (never inside strings). */
export function scriptComments(file: string, text: string): Comment[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const seen = new Map<number, Comment>();
  const add = (ranges: readonly ts.CommentRange[] | undefined) => {
    for (const r of ranges ?? []) {
      if (seen.has(r.pos)) continue;
      seen.set(r.pos, { file, line: source.getLineAndCharacterOfPosition(r.pos).line + 1, text: text.slice(r.pos, r.end) });
    }
  };
  const visit = (node: ts.Node) => {
    add(ts.getLeadingCommentRanges(text, node.getFullStart()));
    add(ts.getTrailingCommentRanges(text, node.getEnd()));
    node.forEachChild(visit);
  };
  visit(source);
  add(ts.getLeadingCommentRanges(text, source.endOfFileToken.getFullStart()));
  return [...seen.values()].sort((a, b) => a.line - b.line);
}

/** `#` comments of shell scripts, Dockerfiles and YAML: whole lines, and line ends after a blank. */
export function hashComments(file: string, text: string): Comment[] {
  const out: Comment[] = [];
  text.split('\n').forEach((line, i) => {
    const m = /(?:^|\s)(#(?!!).*)$/.exec(line);
    if (m) out.push({ file, line: i + 1, text: m[1]! });
  });
  return out;
}

const SCRIPT = /\.(ts|mts|cts|js|mjs|cjs)$/;
const HASH = /(\.sh|\.ya?ml|Dockerfile)$/;

/** Every comment under the checked folders (and the root's config files) of the repository at `root`. */
export function repositoryComments(root: string): Comment[] {
  const files: string[] = fs.readdirSync(root).filter((f) => SCRIPT.test(f) && fs.statSync(path.join(root, f)).isFile());
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
      const rel = path.posix.join(dir, entry.name);
      if (entry.isDirectory()) walk(rel);
      else if (SCRIPT.test(entry.name) || HASH.test(entry.name)) files.push(rel);
    }
  };
  for (const dir of CHECKED_FOLDERS) if (fs.existsSync(path.join(root, dir))) walk(dir);
  for (const dotfile of ['.dependency-cruiser.cjs']) if (fs.existsSync(path.join(root, dotfile))) files.push(dotfile);
  return files.flatMap((file) => {
    const text = fs.readFileSync(path.join(root, file), 'utf8');
    return SCRIPT.test(file) ? scriptComments(file, text) : hashComments(file, text);
  });
}

/** Reads documents of the repository at `root`, once each. */
export function repositoryDocs(root: string): ReadDoc {
  const cache = new Map<string, string | null>();
  return (repoPath) => {
    if (!cache.has(repoPath)) {
      const full = path.join(root, repoPath);
      cache.set(repoPath, !repoPath.startsWith('..') && fs.existsSync(full) && fs.statSync(full).isFile() ? fs.readFileSync(full, 'utf8') : null);
    }
    return cache.get(repoPath)!;
  };
}

/** Every comment of the repository at `root` whose citations cannot be followed here. */
export function badCitations(root: string): BadCitation[] {
  const readDoc = repositoryDocs(root);
  return repositoryComments(root).flatMap((c) => citationProblems(c, readDoc).map((problem) => ({ ...c, problem })));
}
