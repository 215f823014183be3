import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { APP_JS, APP_TS_FILE, compileAppJs } from './app-js';

const ROOT = path.resolve(import.meta.dirname, '../../../../..');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const BROWSER_TSCONFIG = path.join(path.dirname(APP_TS_FILE), 'tsconfig.json');

/** tsc on a project; its diagnostics as text. */
function typecheck(project: string): { status: number | null; out: string } {
  const res = spawnSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8' });
  return { status: res.status, out: res.stdout + res.stderr };
}

describe('the browser script', () => {
  it('type-checks against the DOM', () => {
    const res = typecheck(BROWSER_TSCONFIG);
    expect(res.out).toBe('');
    expect(res.status).toBe(0);
  });

  it('is checked for real: a DOM mistake in it is a type error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl-browser-ts-'));
    try {
      const broken = fs
        .readFileSync(APP_TS_FILE, 'utf8')
        .replace("const main = document.getElementById('main')!;", "const main = document.getElementById('main')!;\n  main.value = 3;");
      fs.writeFileSync(path.join(dir, 'app.ts'), broken);
      fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: BROWSER_TSCONFIG, include: ['app.ts'] }));
      const res = typecheck(path.join(dir, 'tsconfig.json'));
      expect(res.status).not.toBe(0);
      expect(res.out).toMatch(/Property 'value' does not exist on type 'HTMLElement'/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is served as plain JavaScript compiled from that file', () => {
    expect(APP_JS).toBe(compileAppJs());
    expect(APP_JS).not.toMatch(/\binterface StreamedEvent\b|as StreamedEvent/);
    expect(() => new vm.Script(APP_JS)).not.toThrow();
    expect(APP_JS).toContain('document.addEventListener("submit"');
  });
});
