import { z } from 'zod';

/**
 * One setting of a program, declared once: its command-line flag and/or
 * environment variable, its zod type (with the default), and its help line.
 * The config schema, the CLI options, the `--help` text and the error messages
 * ("--http-port (HOMELAB_HTTP_PORT): …") are all derived from a table of these
 * (docs/configuration.md).
 */
export interface Setting {
  /** The flag without its dashes (`http-port`); absent for a setting read from the environment only. */
  readonly flag?: string;
  /** The flag takes no value (`--allow-anonymous`). */
  readonly switch?: boolean;
  /** The value's placeholder in help (`<port>`). */
  readonly arg?: string;
  /** Absent with `flag` too for a setting only code sets (tests); help leaves it out. */
  readonly env?: string;
  /**
   * Other variables read when `env` is unset, in this order: names other
   * deployments already use for the same thing (docs/configuration.md, "Aliases").
   */
  readonly envAliases?: readonly string[];
  /** Parses the flag's or the variable's text (and the programmatic value), default included. */
  readonly type: z.ZodType;
  readonly help: string;
  /** How help shows a default the type computes (`./hosts` rather than the resolved path); `''` shows none. */
  readonly defaultText?: string;
}

export type SettingsTable = Readonly<Record<string, Setting>>;

type FlagOf<S> = S extends { flag: infer F extends string } ? F : never;

/** parseArgs options of a table: one per flag, a string unless it is a switch. */
export type SettingsOptions<T extends SettingsTable> = {
  [K in keyof T as FlagOf<T[K]>]: { type: T[K] extends { switch: true } ? 'boolean' : 'string' };
};

/** The flags' values as parseArgs hands them over. */
export type SettingsFlags<T extends SettingsTable> = {
  [K in keyof T as FlagOf<T[K]>]?: T[K] extends { switch: true } ? boolean : string;
};

/** The object schema of a table: `{ key: setting.type }`. */
export function settingsObject<T extends SettingsTable>(table: T): z.ZodObject<{ [K in keyof T]: T[K]['type'] }> {
  const shape = Object.fromEntries(Object.entries(table).map(([key, s]) => [key, s.type]));
  return z.object(shape) as unknown as z.ZodObject<{ [K in keyof T]: T[K]['type'] }>;
}

/** The table's flags as `node:util` parseArgs options. */
export function settingsOptions<T extends SettingsTable>(table: T): SettingsOptions<T> {
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const s of Object.values(table)) if (s.flag) options[s.flag] = { type: s.switch ? 'boolean' : 'string' };
  return options as SettingsOptions<T>;
}

/** The variable's value, or its first alias that is set; an empty variable counts as unset. */
function fromEnvironment(s: Setting, env: NodeJS.ProcessEnv): string | undefined {
  for (const name of [s.env, ...(s.envAliases ?? [])]) {
    const value = name ? env[name] : undefined;
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** The raw value of each setting: the flag wins over the variable, the variable over its aliases; an empty variable counts as unset. */
export function readSettings(table: SettingsTable, flags: Readonly<Record<string, unknown>>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(table)) {
    const value = (s.flag ? flags[s.flag] : undefined) ?? fromEnvironment(s, env);
    if (value !== undefined) raw[key] = value;
  }
  return raw;
}

/** `HOMELAB_HUB_URL or CONTROL_PLANE_URL`: the variable and its aliases, as help and errors name them. */
const envNames = (s: Setting) => [s.env, ...(s.envAliases ?? [])].filter(Boolean).join(' or ');

/** Where a setting comes from, in the operator's words: `--node (HOMELAB_NODE)`. */
export function settingSource(table: SettingsTable, key: string): string {
  const s = table[key];
  if (!s) return key;
  if (s.flag && s.env) return `--${s.flag} (${envNames(s)})`;
  return s.flag ? `--${s.flag}` : s.env ? envNames(s) : key;
}

/** Every problem of a failed parse, each naming the flag/variable to fix and the reason. */
export function settingsProblems(table: SettingsTable, error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const [key, ...rest] = i.path.map(String);
    const where = rest.length > 0 ? ` at ${rest.join('.')}` : '';
    return `${settingSource(table, key ?? '')}${where}: ${i.message}`;
  });
}

function defaultOf(s: Setting): string {
  if (s.defaultText !== undefined) return s.defaultText;
  if (s.switch) return '';
  const res = s.type.safeParse(undefined);
  if (!res.success || res.data === undefined) return '';
  const v = res.data;
  if (Array.isArray(v)) return v.join(',');
  if (typeof v === 'object' && v !== null) return Object.keys(v).length === 0 ? '' : JSON.stringify(v);
  return String(v);
}

/**
 * `--help` lines: the settings with a flag (variable and default in brackets),
 * then those read from the environment only.
 */
export function settingsHelp(table: SettingsTable): string {
  const settings = Object.values(table);
  const withFlag = settings.filter((s) => s.flag);
  const envOnly = settings.filter((s) => !s.flag && s.env);
  const flagText = (s: Setting) => `--${s.flag}${s.switch ? '' : ` ${s.arg ?? '<value>'}`}`;
  const bracket = (s: Setting, withEnv: boolean) => {
    const parts = [withEnv && s.env ? envNames(s) : undefined, defaultOf(s) && `default ${defaultOf(s)}`].filter(Boolean);
    return parts.length ? ` (${parts.join(', ')})` : '';
  };
  const lines = (items: Setting[], name: (s: Setting) => string, withEnv: boolean) => {
    const width = Math.min(28, Math.max(...items.map((s) => name(s).length)));
    return items.map((s) => {
      const n = name(s);
      const pad = n.length > width ? `\n  ${' '.repeat(width)}` : ' '.repeat(width - n.length);
      return `  ${n}${pad}  ${s.help}${bracket(s, withEnv)}`;
    });
  };
  const out = withFlag.length ? ['Options (environment variable in brackets):', ...lines(withFlag, flagText, true)] : [];
  if (envOnly.length) out.push('Environment only:', ...lines(envOnly, envNames, false));
  return out.join('\n');
}
