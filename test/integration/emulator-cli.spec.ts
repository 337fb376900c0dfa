// The CLI as users run it: a child process, its flags and exit codes, a seed file round trip, a data dir that keeps
// the CA. Exit code 2 for usage errors is the getopt convention (a command-line problem, not a failure to run).
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createPinnedFetch } from '../../src/testing/index.js';
import { runCli, startCli, useTempDir } from './emulator-cli-kit.js';

describe('entra-emulator CLI', () => {
  const temp = useTempDir('entra-cli-');
  let folder: string;
  beforeEach(() => {
    folder = temp.current();
  });

  it('--version prints the package name and version, exit 0', async () => {
    const manifest = JSON.parse(await readFile(join(__dirname, '../../package.json'), 'utf8')) as { name: string; version: string };
    expect(await runCli(['--version'])).toEqual({ code: 0, stdout: `${manifest.name} ${manifest.version}\n`, stderr: '' });
  });

  it('--help prints the usage, exit 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    for (const flag of ['--port', '--host', '--hostname', '--seed', '--print-seed', '--data-dir', '--out-dir', '--version']) expect(stdout).toContain(flag);
  });

  it.each([
    [['--bogus'], "Unknown option '--bogus'"],
    [['--port', 'eighty'], "--port must be a number from 0 to 65535, got 'eighty'"],
    [['--port', '70000'], "--port must be a number from 0 to 65535, got '70000'"],
    [['positional'], "Unexpected argument 'positional'"],
    [['--seed', '/no/such/seed.json'], 'seed file /no/such/seed.json: no such file'],
    [['--hostname', 'not a name'], "hostnames: 'not a name' is not a host name"],
  ])('a usage error (%j) exits 2 with the problem and the usage', async (args, problem) => {
    const { code, stderr } = await runCli([...args, '--out-dir', join(folder, 'out')]);
    expect(code).toBe(2);
    expect(stderr).toContain(problem);
    expect(stderr).toContain('Usage: entra-emulator');
  });

  it('a seed file that is not JSON, or not a directory, exits 2 naming every problem', async () => {
    await writeFile(join(folder, 'broken.json'), '{ "tenants": [');
    const broken = await runCli(['--seed', join(folder, 'broken.json')]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain(`seed file ${join(folder, 'broken.json')}: not JSON`);
    await writeFile(join(folder, 'wrong.json'), JSON.stringify({ tenants: [{ id: 'x', displayName: 'X' }], users: [{ id: '11111111-1111-4111-8111-111111111111', username: 'a' }] }));
    const wrong = await runCli(['--seed', join(folder, 'wrong.json'), '--out-dir', join(folder, 'out')]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('seed.tenants[0].id: must be a GUID, got "x"');
    expect(wrong.stderr).toContain('seed.users[0].tenantId: is required');
  });

  it('--print-seed, then --seed: the same ids and secrets serve (a client-credentials token with the file\'s secret)', async () => {
    const printed = await runCli(['--print-seed']);
    expect(printed.code).toBe(0);
    const seed = JSON.parse(printed.stdout) as { tenants: Array<{ id: string }>; apps: Array<{ clientId: string; displayName: string; secrets: string[]; identifierUris: string[] }> };
    await writeFile(join(folder, 'seed.json'), printed.stdout);
    const cli = await startCli(['--seed', join(folder, 'seed.json'), '--out-dir', join(folder, 'out')]);
    const pinned = createPinnedFetch(await readFile(join(folder, 'out', 'ca.pem'), 'utf8'));
    try {
      const daemon = seed.apps.find((app) => app.displayName === 'Contoso Nightly Job')!;
      const api = seed.apps.find((app) => app.displayName === 'Contoso Tasks API')!;
      const response = await pinned.fetch(`${cli.authorityHost}/${seed.tenants[0]!.id}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: daemon.clientId, client_secret: daemon.secrets[0]!, scope: `${api.identifierUris[0]}/.default` }),
      });
      expect(response.status).toBe(200);
      const directory = JSON.parse(await readFile(join(folder, 'out', 'directory.json'), 'utf8')) as { seedFile: string; tenants: Array<{ id: string }> };
      expect(directory.seedFile).toBe(join(folder, 'seed.json'));
      expect(directory.tenants.map((tenant) => tenant.id)).toEqual(seed.tenants.map((tenant) => tenant.id));
      expect(cli.stdout).toMatch(/started in \d+ ms/);
    } finally {
      pinned.close();
      expect(await cli.stop()).toBe(0);
    }
  });

  it('--data-dir keeps the CA and the signing keys across runs; the out dir then writes the same ca.pem', async () => {
    const run = async () => {
      const cli = await startCli(['--data-dir', join(folder, 'data'), '--out-dir', join(folder, 'out')]);
      const caPem = await readFile(join(folder, 'out', 'ca.pem'), 'utf8');
      const pinned = createPinnedFetch(caPem);
      try {
        const keys = (await (await pinned.fetch(`${cli.authorityHost}/common/discovery/v2.0/keys`)).json()) as { keys: Array<{ kid: string }> };
        return { caPem, kids: keys.keys.map((key) => key.kid) };
      } finally {
        pinned.close();
        await cli.stop();
      }
    };
    const first = await run();
    const second = await run();
    expect(second.caPem).toBe(first.caPem);
    expect(second.kids).toEqual(first.kids);
    expect(await readFile(join(folder, 'data', 'ca.pem'), 'utf8')).toBe(first.caPem);
  });

  it('--host 0.0.0.0 serves with a warning that it is for tests, reachable over 127.0.0.1', async () => {
    const cli = await startCli(['--host', '0.0.0.0', '--out-dir', join(folder, 'out')]);
    const pinned = createPinnedFetch(await readFile(join(folder, 'out', 'ca.pem'), 'utf8'));
    try {
      expect(cli.stderr).toMatch(/^warning: listening on 0\.0\.0\.0, beyond this machine\..*for tests only/m);
      expect(cli.authorityHost).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect((await pinned.fetch(`${cli.authorityHost}/health`)).status).toBe(200);
    } finally {
      pinned.close();
      await cli.stop();
    }
  });
});
