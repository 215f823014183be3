import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** A self-signed certificate for 127.0.0.1 and localhost, valid one day, written as cert.pem and key.pem into `dir` (openssl). */
export function selfSignedCert(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'];
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', ...subject], { stdio: 'ignore' });
  return { cert, key };
}
