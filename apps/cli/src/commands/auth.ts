import readline from 'node:readline';
import path from 'node:path';
import { addToken, hashPassword, Role } from '@homelab/hub';
import { parse, UsageError } from '../args';
import { AUTH_HELP } from '../help';

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Echo nothing while the password is typed.
  (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
  process.stderr.write('Password: ');
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

/** `homelab auth hash-password` and `homelab auth token --name <n> --role viewer|operator`. */
export async function authCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { name: { type: 'string' }, role: { type: 'string' }, root: { type: 'string' } } as const);
  const [verb] = positionals;
  if (values.help || !verb) {
    console.log(AUTH_HELP);
    return verb || values.help ? 0 : 2;
  }
  switch (verb) {
    case 'hash-password': {
      const pw = await readPassword();
      if (pw.length < 8) throw new UsageError('use a password of at least 8 characters');
      console.log(await hashPassword(pw));
      return 0;
    }
    case 'token': {
      if (!values.name) throw new UsageError('auth token needs --name <name> (e.g. mirror-piha)');
      const role = Role.safeParse(values.role ?? 'viewer');
      if (!role.success) throw new UsageError('--role is viewer or operator');
      const root = path.resolve(values.root ?? process.env.HOMELAB_ROOT ?? '/opt/homelab');
      console.log(await addToken(root, values.name, role.data));
      console.error(`token '${values.name}' (${role.data}) added to ${path.join(root, 'auth/auth.json')}; the hub picks it up within seconds`);
      return 0;
    }
    default:
      throw new UsageError(`unknown auth subcommand '${verb}' (hash-password, token)`);
  }
}
