// What the CLI hands to other processes: files in the out dir (the CA to trust, the ids and secrets, the middle
// tier's certificate) and the banner it prints.
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { EntraEmulator } from '../emulator/entra-emulator.js';

/** Writes ca.pem and directory.json (and, for the default directory, the middle tier's certificate and key). */
export async function writeOutDir(emulator: EntraEmulator, outDir: string, seedFile: string | undefined): Promise<{ caFile: string; directoryFile: string }> {
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const caFile = resolve(outDir, 'ca.pem');
  const directoryFile = resolve(outDir, 'directory.json');
  await writeFile(caFile, emulator.caCertificatePem);
  const where = { authorityHost: emulator.authorityHost, knownAuthority: emulator.knownAuthority, graphBaseUrl: emulator.graphBaseUrl, caFile };
  let directory: Record<string, unknown>;
  if (seedFile) {
    // The seed file holds the ids and secrets already; the directory file says where the emulator is.
    directory = { ...where, seedFile, tenants: emulator.directory.tenants.map(({ id, domain }) => ({ id, domain })) };
  } else {
    const { tenants, users, apps } = emulator.defaults;
    const certificateFile = resolve(outDir, 'middle-tier-certificate.pem');
    const keyFile = resolve(outDir, 'middle-tier-private-key.pem');
    await writeFile(certificateFile, apps.middleTierApi.certificate.certificatePem);
    await writeFile(keyFile, apps.middleTierApi.certificate.privateKeyPem, { mode: 0o600 });
    directory = {
      ...where,
      tenants: { primary: tenants.primary, secondary: tenants.secondary },
      users,
      apps: {
        webApp: { clientId: apps.webApp.app.clientId, clientSecret: apps.webApp.clientSecret, redirectUri: apps.webApp.redirectUri },
        middleTierApi: {
          clientId: apps.middleTierApi.app.clientId,
          clientSecret: apps.middleTierApi.clientSecret,
          scope: apps.middleTierApi.scope,
          certificateFile,
          privateKeyFile: keyFile,
          thumbprintSha256: apps.middleTierApi.certificate.thumbprintSha256Hex,
        },
        downstreamApi: { clientId: apps.downstreamApi.app.clientId, scopes: apps.downstreamApi.scopes, defaultScope: apps.downstreamApi.defaultScope },
        daemon: { clientId: apps.daemon.app.clientId, clientSecret: apps.daemon.clientSecret },
      },
    };
  }
  await writeFile(directoryFile, `${JSON.stringify(directory, null, 2)}\n`, { mode: 0o600 });
  return { caFile, directoryFile };
}

/** The banner: where the emulator is, what it holds (and, for the default directory, this run's secrets). */
export function banner(emulator: EntraEmulator, files: { caFile: string; directoryFile: string }, seedFile: string | undefined): string {
  const head = `Entra ID emulator listening at ${emulator.authorityHost} (started in ${emulator.startDurationMs} ms)

  page                     ${emulator.authorityHost}/  (what it holds and the requests it received)
  health                   ${emulator.authorityHost}/health
  knownAuthorities         ["${emulator.knownAuthority}"]
  Microsoft Graph          ${emulator.graphBaseUrl}  (in place of https://graph.microsoft.com)
  CA certificate           ${files.caFile}
  ids and secrets          ${files.directoryFile}
`;
  if (seedFile) {
    const tenants = emulator.directory.tenants.map((tenant) => `  authority (${tenant.displayName})`.padEnd(27) + emulator.authority(tenant.id)).join('\n');
    return `${head}  seed                     ${seedFile}\n\n${tenants}\n\nPress Ctrl-C to stop.`;
  }
  const { tenants, users, apps } = emulator.defaults;
  return `${head}
  authority (Contoso)      ${emulator.authority(tenants.primary.id)}
  authority (Fabrikam)     ${emulator.authority(tenants.secondary.id)}

  web app                  ${apps.webApp.app.clientId}  secret ${apps.webApp.clientSecret}
  middle-tier API          ${apps.middleTierApi.app.clientId}  secret ${apps.middleTierApi.clientSecret}
                           scope ${apps.middleTierApi.scope}
  downstream API           ${apps.downstreamApi.app.clientId}  scopes ${apps.downstreamApi.scopes.read}, ${apps.downstreamApi.scopes.write}
  daemon                   ${apps.daemon.app.clientId}  secret ${apps.daemon.clientSecret}

  users                    ${users.member.username} (member), ${users.mfaUser.username} (MFA for the downstream API),
                           ${users.secondTenantMember.username} (Fabrikam; guest in Contoso)

These secrets are generated for this run of a local test emulator. Press Ctrl-C to stop.`;
}
