/** A throw-away self-signed certificate for 127.0.0.1/localhost, made with openssl. */
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

export async function selfSignedCert(
  dir: string,
): Promise<{ cert: Buffer; key: Buffer; certPath: string; keyPath: string }> {
  const certPath = join(dir, 'server.crt')
  const keyPath = join(dir, 'server.key')
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ])
  return { cert: await readFile(certPath), key: await readFile(keyPath), certPath, keyPath }
}
