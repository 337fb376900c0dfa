#!/usr/bin/env node
// `npm run emulator`: runs the Entra ID emulator for other processes (a sample app, a manual test with a browser).
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEntraEmulator } from './emulator/entra-emulator.js';

const DEFAULT_PORT = 44321;

const USAGE = `Usage: entra-emulator [--port N] [--host 127.0.0.1] [--out-dir DIR]

  --port     TCP port (default $ENTRA_EMULATOR_PORT or ${DEFAULT_PORT}; 0 picks a free one)
  --host     loopback interface to listen on (default $ENTRA_EMULATOR_HOST or 127.0.0.1)
  --out-dir  where to write ca.pem, directory.json and the middle tier's certificate
             (default $ENTRA_EMULATOR_OUT_DIR or .entra-emulator)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'out-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const portText = values.port ?? process.env.ENTRA_EMULATOR_PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    console.error(`--port must be a number from 0 to 65535, got '${portText}'\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const host = values.host ?? process.env.ENTRA_EMULATOR_HOST ?? '127.0.0.1';
  const outDir = resolve(values['out-dir'] ?? process.env.ENTRA_EMULATOR_OUT_DIR ?? '.entra-emulator');

  const emulator = await startEntraEmulator({ port, host });
  const { tenants, users, apps } = emulator.defaults;
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const caFile = resolve(outDir, 'ca.pem');
  const certificateFile = resolve(outDir, 'middle-tier-certificate.pem');
  const keyFile = resolve(outDir, 'middle-tier-private-key.pem');
  const directoryFile = resolve(outDir, 'directory.json');
  await writeFile(caFile, emulator.caCertificatePem);
  await writeFile(certificateFile, apps.middleTierApi.certificate.certificatePem);
  await writeFile(keyFile, apps.middleTierApi.certificate.privateKeyPem, { mode: 0o600 });
  const directory = {
    authorityHost: emulator.authorityHost,
    knownAuthority: emulator.knownAuthority,
    graphBaseUrl: emulator.graphBaseUrl,
    caFile,
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
  await writeFile(directoryFile, `${JSON.stringify(directory, null, 2)}\n`, { mode: 0o600 });

  console.log(`Entra ID emulator listening at ${emulator.authorityHost}

  authority (Contoso)      ${emulator.authority(tenants.primary.id)}
  authority (Fabrikam)     ${emulator.authority(tenants.secondary.id)}
  knownAuthorities         ["${emulator.knownAuthority}"]
  Microsoft Graph          ${emulator.graphBaseUrl}  (in place of https://graph.microsoft.com)
  CA certificate           ${caFile}
  ids and secrets          ${directoryFile}

  web app                  ${apps.webApp.app.clientId}  secret ${apps.webApp.clientSecret}
  middle-tier API          ${apps.middleTierApi.app.clientId}  secret ${apps.middleTierApi.clientSecret}
                           scope ${apps.middleTierApi.scope}
  downstream API           ${apps.downstreamApi.app.clientId}  scopes ${apps.downstreamApi.scopes.read}, ${apps.downstreamApi.scopes.write}
  daemon                   ${apps.daemon.app.clientId}  secret ${apps.daemon.clientSecret}

  users                    ${users.member.username} (member), ${users.mfaUser.username} (MFA for the downstream API),
                           ${users.secondTenantMember.username} (Fabrikam; guest in Contoso)

These secrets are generated for this run of a local test emulator. Press Ctrl-C to stop.`);

  const stop = async (signal: string) => {
    console.log(`\n${signal}: stopping the emulator`);
    await emulator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
