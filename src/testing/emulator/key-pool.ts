// Certificates with their RSA keys (the signing keys' and the apps'), kept so that an emulator starts without
// generating keys, the slow part (100–300 ms per 2048-bit key, plus loading @peculiar/x509). Each one is leased: while
// an emulator is alive, no other emulator (in this process, or in another one sharing the folder, like Jest's
// workers) gets it; the emulator gives it back when it closes. So two live emulators never sign with the same key,
// and a test suite generates keys for as many emulators as are alive at once, not for every start.
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { describeCertificate, type GeneratedCertificate } from './x509-certificates.js';

/** The key cache's folder under the OS temp dir (one per OS user); `ENTRA_EMULATOR_KEY_CACHE_DIR` moves it. */
export function defaultKeyCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.ENTRA_EMULATOR_KEY_CACHE === 'off') return undefined;
  if (env.ENTRA_EMULATOR_KEY_CACHE_DIR) return env.ENTRA_EMULATOR_KEY_CACHE_DIR;
  let user = 'user';
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9_-]/g, '') || user;
  } catch {
    // No user name (a container's arbitrary uid): one cache for all.
  }
  return join(tmpdir(), `nestjs-entra-obo-emulator-${user}`);
}

/** A certificate an emulator holds until `release()`, which hands it to the next emulator that asks. */
export interface CertificateLease {
  readonly certificate: GeneratedCertificate;
  release(): Promise<void>;
}

export type MakeCertificate = (commonName: string) => Promise<GeneratedCertificate>;

const LEASED = '.leased-';

/** Whether a process of this id runs (EPERM: it does, as another user's); what a lease or a lock is checked by. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function serialise(certificate: GeneratedCertificate): string {
  return `${certificate.certificatePem.trim()}\n${certificate.privateKeyPem.trim()}\n`;
}

function parse(text: string): GeneratedCertificate {
  const keyStart = text.indexOf('-----BEGIN PRIVATE KEY-----');
  if (keyStart < 0) throw new Error('not a kept certificate');
  return describeCertificate(text.slice(0, keyStart).trim() + '\n', text.slice(keyStart).trim() + '\n');
}

/**
 * The pool for one folder: per common name, files `{id}.pem` (free) and `{id}.pem.leased-{pid}-{nonce}` (held). A
 * lease is taken by renaming a free file, which only one process can do; a lease whose process is gone (a crash, a
 * kill) is free again. Without a folder (the cache turned off, or not writable) the pool lives in this process only.
 */
export class CertificatePool {
  private readonly free = new Map<string, GeneratedCertificate[]>();
  private folderUsable: boolean;

  constructor(private readonly folder: string | undefined) {
    this.folderUsable = folder !== undefined;
  }

  async lease(commonName: string, make: MakeCertificate): Promise<CertificateLease> {
    if (this.folderUsable) {
      const kept = await this.leaseFromFolder(commonName);
      if (kept) return kept;
    }
    const certificate = this.free.get(commonName)?.shift() ?? (await make(commonName));
    if (this.folderUsable) {
      try {
        return await this.keepLeased(commonName, certificate);
      } catch {
        this.folderUsable = false; // a read-only or full disk: carry on in memory
      }
    }
    return {
      certificate,
      release: async () => {
        this.free.set(commonName, [...(this.free.get(commonName) ?? []), certificate]);
      },
    };
  }

  private folderFor(commonName: string): string {
    const slug = commonName.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 40);
    return join(this.folder!, 'certificates', `${slug}-${createHash('sha256').update(commonName).digest('hex').slice(0, 8)}`);
  }

  private leasedName(file: string): string {
    return `${file}${LEASED}${process.pid}-${randomBytes(4).toString('hex')}`;
  }

  private leaseOf(folder: string, freeName: string, leasedPath: string, certificate: GeneratedCertificate): CertificateLease {
    return { certificate, release: () => rename(leasedPath, join(folder, freeName)).catch(() => undefined) };
  }

  private async leaseFromFolder(commonName: string): Promise<CertificateLease | undefined> {
    const folder = this.folderFor(commonName);
    let names: string[];
    try {
      names = await readdir(folder);
    } catch {
      return undefined;
    }
    const free = names.filter((name) => name.endsWith('.pem'));
    // Leases of processes that are gone count as free.
    const abandoned = names.filter((name) => name.includes(LEASED) && !isAlive(Number(name.split(LEASED)[1]!.split('-')[0])));
    for (const name of [...free, ...abandoned]) {
      const freeName = name.split(LEASED)[0]!;
      const leasedPath = join(folder, this.leasedName(freeName));
      try {
        await rename(join(folder, name), leasedPath);
      } catch {
        continue; // another emulator took it first
      }
      try {
        return this.leaseOf(folder, freeName, leasedPath, parse(await readFile(leasedPath, 'utf8')));
      } catch {
        continue; // not a certificate we wrote: leave it aside
      }
    }
    return undefined;
  }

  private async keepLeased(commonName: string, certificate: GeneratedCertificate): Promise<CertificateLease> {
    const folder = this.folderFor(commonName);
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const freeName = `${randomBytes(12).toString('hex')}.pem`;
    const leasedPath = join(folder, this.leasedName(freeName));
    await writeFile(leasedPath, serialise(certificate), { mode: 0o600 });
    return this.leaseOf(folder, freeName, leasedPath, certificate);
  }
}

const pools = new Map<string, CertificatePool>();

/** The process's pool for a folder (or its memory-only pool). */
export function certificatePoolFor(folder: string | undefined): CertificatePool {
  const key = folder ?? '';
  let pool = pools.get(key);
  if (!pool) {
    pool = new CertificatePool(folder);
    pools.set(key, pool);
  }
  return pool;
}

/** What one emulator leases, all given back at once when it closes. */
export class CertificateLeases {
  private readonly held: CertificateLease[] = [];

  constructor(
    private readonly pool: CertificatePool,
    private readonly make: MakeCertificate,
  ) {}

  /** A certificate for `commonName` no other live emulator holds. */
  readonly certificate = async (commonName: string): Promise<GeneratedCertificate> => {
    const lease = await this.pool.lease(commonName, this.make);
    this.held.push(lease);
    return lease.certificate;
  };

  async releaseAll(): Promise<void> {
    const leases = this.held.splice(0);
    await Promise.all(leases.map((lease) => lease.release()));
  }
}
