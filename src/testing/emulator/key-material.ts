// The emulator's CA and TLS certificate, made once and kept: in this process (Jest gives every test file a fresh
// module registry, so also) on disk, in the key cache under the OS temp dir or in a `dataDir`. A kept CA means a
// browser, or `NODE_EXTRA_CA_CERTS`, trusts the emulator once. A data dir also keeps the signing keys, so tokens
// issued before a restart still verify after it; the key cache never does (see key-pool.ts).
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  certificateAuthorityFromPem,
  createCertificateAuthority,
  describeCertificate,
  issueServerCertificate,
  type CertificateAuthority,
  type GeneratedCertificate,
} from './x509-certificates.js';
import { isAlive } from './key-pool.js';
import type { SigningKey } from './signing-keys.js';

export const CA_COMMON_NAME = 'Entra ID Emulator Local CA';
/** A kept certificate closer than this to its end is made again. */
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

export interface TlsNames {
  dns: string[];
  ip: string[];
}

export interface KeyMaterial {
  authority: CertificateAuthority;
  tls: GeneratedCertificate;
}

/** Writes a file whole or not at all (another name, then a rename), readable by its owner only. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const partial = `${path}.${randomBytes(6).toString('hex')}.partial`;
  await writeFile(partial, content, { mode: 0o600 });
  await rename(partial, path);
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function stillValid(certificatePem: string): boolean {
  try {
    return new Date(new X509Certificate(certificatePem).validTo).getTime() - Date.now() > RENEW_BEFORE_MS;
  } catch {
    return false;
  }
}

/** A certificate and key kept as `{name}.pem` and `{name}-key.pem`, made by `create` when absent or near its end. */
async function kept<T>(folder: string | undefined, name: string, fromPem: (certificatePem: string, keyPem: string) => Promise<T> | T, create: () => Promise<T & { certificatePem: string; privateKeyPem: string }>): Promise<T> {
  if (folder) {
    const [certificatePem, keyPem] = await Promise.all([readIfPresent(join(folder, `${name}.pem`)), readIfPresent(join(folder, `${name}-key.pem`))]);
    if (certificatePem && keyPem && stillValid(certificatePem)) {
      try {
        return await fromPem(certificatePem, keyPem);
      } catch {
        // A damaged file: make a new pair below.
      }
    }
  }
  const made = await create();
  if (folder) {
    await mkdir(folder, { recursive: true, mode: 0o700 });
    // The key first: a reader that finds the certificate finds its key.
    await writeAtomically(join(folder, `${name}-key.pem`), made.privateKeyPem);
    await writeAtomically(join(folder, `${name}.pem`), made.certificatePem);
  }
  return made;
}

const inProcess = new Map<string, Promise<KeyMaterial>>();

/**
 * The CA and a TLS certificate for `names` signed by it, from `folder` (or this process's memory) when kept there,
 * made and kept otherwise. `folder` undefined keeps them in memory only.
 */
export function keyMaterial(folder: string | undefined, names: TlsNames): Promise<KeyMaterial> {
  const key = JSON.stringify([folder ?? '', names.dns, names.ip]);
  let loading = inProcess.get(key);
  if (!loading) {
    loading = loadKeyMaterial(folder, names);
    inProcess.set(key, loading);
    loading.catch(() => inProcess.delete(key));
  }
  return loading;
}

/** `keyMaterial` without the in-process memory: what a new process (or a Jest test file) does. */
export async function loadKeyMaterial(folder: string | undefined, names: TlsNames): Promise<KeyMaterial> {
  const authority = await kept(folder, 'ca', certificateAuthorityFromPem, () => createCertificateAuthority(CA_COMMON_NAME));
  // The server certificate belongs to one CA and one set of names: a new CA or another --hostname makes another one.
  const caFingerprint = new X509Certificate(authority.certificatePem).fingerprint256;
  const tlsName = `tls-${createHash('sha256').update(JSON.stringify([caFingerprint, names.dns, names.ip])).digest('hex').slice(0, 16)}`;
  const tls = await kept(folder, tlsName, describeCertificate, () => issueServerCertificate(authority, names));
  return { authority, tls };
}

/** Signing keys kept in a data dir (`signing-keys.json`: certificate and key PEMs, oldest first). */
export async function keptSigningKeys(dataDir: string): Promise<GeneratedCertificate[] | undefined> {
  const text = await readIfPresent(join(dataDir, 'signing-keys.json'));
  if (!text) return undefined;
  try {
    const entries = JSON.parse(text) as Array<{ certificatePem: string; privateKeyPem: string }>;
    const keys = entries.map((entry) => describeCertificate(entry.certificatePem, entry.privateKeyPem));
    return keys.length > 0 && keys.every((key) => stillValid(key.certificatePem)) ? keys : undefined;
  } catch {
    return undefined;
  }
}

export async function keepSigningKeys(dataDir: string, keys: readonly SigningKey[]): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const entries = keys.map((key) => ({
    certificatePem: new X509Certificate(Buffer.from(key.certificateDerBase64, 'base64')).toString(),
    privateKeyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  }));
  await writeAtomically(join(dataDir, 'signing-keys.json'), `${JSON.stringify(entries, null, 2)}\n`);
}

/**
 * Takes the data dir for this process: two live emulators on one data dir would sign with the same keys. A lock
 * left by a process that is gone is taken over. Returns the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const lock = join(dataDir, 'emulator.lock');
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`;
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      await writeFile(lock, token, { flag: 'wx', mode: 0o600 });
      return async () => {
        if ((await readIfPresent(lock)) === token) await unlink(lock).catch(() => undefined);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number((await readIfPresent(lock))?.split(' ')[0]);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
        throw new Error(`The data dir ${dataDir} is in use by another emulator (process ${holder}); give each emulator its own`, { cause: error });
      }
      await unlink(lock).catch(() => undefined);
    }
  }
  throw new Error(`Could not lock the data dir ${dataDir}`);
}
