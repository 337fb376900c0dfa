// startEntraEmulator's start-up options: where it listens and by which names, the data dir, seeds as data, and the
// key material it reuses without ever letting two live emulators sign with the same key.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPinnedFetch, startEntraEmulator, type EntraEmulator } from '../../src/testing/index.js';

/** The subjectAltName of the certificate a TLS server presents for `servername`, trusting only `ca`. */
function subjectAltNameOf(port: number, ca: string, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername }, () => {
      resolve(socket.getPeerCertificate().subjectaltname ?? '');
      socket.end();
    });
    socket.once('error', reject);
  });
}

describe('startEntraEmulator: start-up', () => {
  const started: EntraEmulator[] = [];
  let folder: string;
  const start = async (...args: Parameters<typeof startEntraEmulator>) => {
    const emulator = await startEntraEmulator(...args);
    started.push(emulator);
    return emulator;
  };
  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'entra-start-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((emulator) => emulator.close()));
    await rm(folder, { recursive: true, force: true });
  });

  it('refuses 0.0.0.0 without allowNonLoopbackHost, and serves on it (reached over 127.0.0.1) with it', async () => {
    await expect(startEntraEmulator({ host: '0.0.0.0' })).rejects.toThrow(/host must be a loopback address .*got '0\.0\.0\.0'; set allowNonLoopbackHost/);
    const entra = await start({ host: '0.0.0.0', allowNonLoopbackHost: true });
    expect(entra.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect((await entra.fetch(`${entra.authorityHost}/health`)).status).toBe(200);
  });

  // RFC 1122 §3.2.1.3: the whole of 127.0.0.0/8 is loopback, so 127.0.0.2 needs no flag and is in the certificate.
  it('listens on 127.0.0.2 without the flag, with that address in its certificate', async () => {
    const entra = await start({ host: '127.0.0.2' });
    expect(entra.authorityHost).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
    expect((await entra.fetch(`${entra.authorityHost}/health`)).status).toBe(200);
  });

  it('hostnames: in the TLS certificate, and the first one is the authority host of issuers and discovery', async () => {
    const entra = await start({ hostnames: ['entra', 'entra.test'] });
    const port = Number(new URL(entra.authorityHost).port);
    expect(entra.authorityHost).toBe(`https://entra:${port}`);
    const altNames = await subjectAltNameOf(port, entra.caCertificatePem, 'entra');
    expect(altNames).toContain('DNS:entra');
    expect(altNames).toContain('DNS:entra.test');
    expect(altNames).toContain('IP Address:127.0.0.1');
    const tenant = entra.defaults.tenants.primary.id;
    // The name resolves only inside a docker network; here the same server is asked over 127.0.0.1.
    const document = (await (await entra.fetch(`https://127.0.0.1:${port}/${tenant}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(document.issuer).toBe(`https://entra:${port}/${tenant}/v2.0`);
    expect(document.token_endpoint).toBe(`https://entra:${port}/${tenant}/oauth2/v2.0/token`);
  });

  it('dataDir: one live emulator per folder; the next one keeps its CA and signing keys', async () => {
    const dataDir = join(folder, 'data');
    const first = await startEntraEmulator({ dataDir });
    await expect(startEntraEmulator({ dataDir })).rejects.toThrow(`The data dir ${dataDir} is in use by another emulator (process ${process.pid}); give each emulator its own`);
    const { caCertificatePem, signingKeyIds } = first;
    await first.close();
    const second = await start({ dataDir });
    expect(second.caCertificatePem).toBe(caCertificatePem);
    expect(second.signingKeyIds).toEqual(signingKeyIds);
  });

  it('two live emulators never sign with the same key, though the CA is kept for both', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    expect(a.signingKeyIds.filter((kid) => b.signingKeyIds.includes(kid))).toEqual([]);
    expect(a.defaults.apps.middleTierApi.certificate.thumbprintSha256Hex).not.toBe(b.defaults.apps.middleTierApi.certificate.thumbprintSha256Hex);
    expect(b.caCertificatePem).toBe(a.caCertificatePem);
    // A token signed by one does not verify at the other: its kid is not published there.
    const token = await a.issueAccessToken({ client: a.defaults.apps.daemon.app, resource: a.defaults.apps.middleTierApi.app, roles: ['Tasks.Read.All'] });
    const kid = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid: string };
    expect(b.signingKeyIds).not.toContain(kid.kid);
  });

  it('seed: a seed object, or a seedFile, builds the directory with its fixed ids and secrets', async () => {
    const seed = {
      tenants: [{ id: '0a0a0a0a-1111-4222-8333-444444444444', displayName: 'Woodgrove' }],
      apps: [{ clientId: '0b0b0b0b-1111-4222-8333-444444444444', tenantId: '0a0a0a0a-1111-4222-8333-444444444444', displayName: 'Job', secrets: ['a-fixed-secret'] }],
    };
    const fromObject = await start({ seed });
    expect(fromObject.directory.app('0b0b0b0b-1111-4222-8333-444444444444').secrets).toEqual(['a-fixed-secret']);
    expect(() => fromObject.defaults).toThrow(/not started with the default directory/);
    await writeFile(join(folder, 'seed.json'), JSON.stringify(seed));
    const fromFile = await start({ seedFile: join(folder, 'seed.json') });
    expect(fromFile.directory.tenants.map((tenant) => tenant.displayName)).toEqual(['Woodgrove']);
    // reset() brings the seed back, as for the default directory.
    fromFile.directory.addSecret('0b0b0b0b-1111-4222-8333-444444444444', 'another');
    fromFile.reset();
    expect(fromFile.directory.app('0b0b0b0b-1111-4222-8333-444444444444').secrets).toEqual(['a-fixed-secret']);
  });

  it('seed problems are reported all at once, before anything listens', async () => {
    await expect(startEntraEmulator({ seed: { tenants: [{ id: 'nope' }], apps: 'none' } as never })).rejects.toThrow(
      'startEntraEmulator: invalid options:\n- seed.tenants[0].displayName: is required\n- seed.tenants[0].id: must be a GUID, got "nope"\n- seed.apps: must be an array',
    );
    await expect(startEntraEmulator({ seed: 'default', seedFile: 'x.json' })).rejects.toThrow('give seed or seedFile, not both');
    await expect(startEntraEmulator({ seedFile: join(folder, 'missing.json') })).rejects.toThrow(`seed file ${join(folder, 'missing.json')}: no such file`);
  });

  it('reports how long its start took', async () => {
    const entra = await start();
    expect(Number.isInteger(entra.startDurationMs)).toBe(true);
    expect(entra.startDurationMs).toBeGreaterThanOrEqual(0);
  });

  it('a pinned fetch trusts a kept CA: clients configured once keep working with the next emulator', async () => {
    const dataDir = join(folder, 'trust');
    const first = await startEntraEmulator({ dataDir });
    const pinned = createPinnedFetch(first.caCertificatePem);
    await first.close();
    const second = await start({ dataDir });
    try {
      expect((await pinned.fetch(`${second.authorityHost}/health`)).status).toBe(200);
    } finally {
      pinned.close();
    }
  });
});
