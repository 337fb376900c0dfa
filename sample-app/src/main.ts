// `npm start`: the emulator, the three tiers, the daemon once and the walkthrough; then it serves until Ctrl-C.
import { startEntraEmulator, type EntraEmulator } from 'nestjs-entra-obo/testing';
import { runDaemon } from './daemon.js';
import { trustInstructions, writeEmulatorCa } from './emulator-ca.js';
import { listeningOn, PortInUseError } from './ports.js';
import { startProfileApi } from './profile-api/profile-api.js';
import { entraSettingsFromEnvironment, sampleSettings, type EntraSettings } from './settings.js';
import { startTasksApi } from './tasks-api/tasks-api.js';
import { runWalkthrough } from './walkthrough.js';
import { startWebApp, type WebApp } from './web-app/web-app.js';

export interface RunningSample {
  entra: EntraEmulator | undefined;
  settings: EntraSettings;
  webApp: WebApp;
  tasksApiUrl: string;
  profileApiUrl: string;
  close(): Promise<void>;
}

function fromEmulator(entra: EntraEmulator): EntraSettings {
  const { tenants, apps } = entra.defaults;
  return {
    authorityHost: entra.authorityHost,
    tenantId: tenants.primary.id,
    fetch: entra.fetch,
    // Graph by configuration only: its stand-in on the emulator, reached through the emulator's pinned fetch; the
    // profile API is plain HTTP on loopback, reached with the global fetch.
    graphBaseUrl: `${entra.graphBaseUrl}/v1.0`,
    downstreamFetch: ((input: string | URL | Request, init?: RequestInit) =>
      (input instanceof Request ? input.url : String(input)).startsWith(`${entra.graphBaseUrl}/`) ? entra.fetch(input, init) : fetch(input, init)) as typeof fetch,
    webApp: { clientId: apps.webApp.app.clientId, clientSecret: apps.webApp.clientSecret },
    tasksApi: { clientId: apps.middleTierApi.app.clientId, clientSecret: apps.middleTierApi.clientSecret, scope: apps.middleTierApi.scope },
    profileApi: { clientId: apps.downstreamApi.app.clientId, readScope: apps.downstreamApi.scopes.read, defaultScope: apps.downstreamApi.defaultScope },
    daemon: { clientId: apps.daemon.app.clientId, clientSecret: apps.daemon.clientSecret },
    // The APIs judge tokens by the emulator's clock, so a test that moves it sees tokens expire as the APIs do.
    clock: entra.clock,
  };
}

/** Starts everything on loopback. Ports of 0 pick free ones (the tests do that). A taken port: `PortInUseError`. */
export async function startSample(ports = sampleSettings()): Promise<RunningSample> {
  const real = entraSettingsFromEnvironment();
  const started: Array<{ close(): Promise<unknown> }> = [];
  const closeAll = async () => {
    for (const part of started.reverse()) await part.close();
  };
  try {
    const entra = real ? undefined : await listeningOn('ENTRA_EMULATOR_PORT', ports.emulatorPort, () => startEntraEmulator({ port: ports.emulatorPort }));
    if (entra) started.push(entra);
    const settings = real ?? fromEmulator(entra!);
    const profileApi = await listeningOn('PROFILE_API_PORT', ports.profileApiPort, () => startProfileApi(settings, ports.profileApiPort));
    started.push(profileApi);
    const profileApiUrl = (await profileApi.getUrl()).replace('[::1]', '127.0.0.1');
    const tasksApi = await listeningOn('TASKS_API_PORT', ports.tasksApiPort, () => startTasksApi(settings, ports.tasksApiPort, profileApiUrl));
    started.push(tasksApi);
    const tasksApiUrl = (await tasksApi.getUrl()).replace('[::1]', '127.0.0.1');
    const webApp = await listeningOn('WEB_APP_PORT', ports.webAppPort, () => startWebApp(settings, ports.webAppPort, tasksApiUrl, entra?.networkClient));
    started.push(webApp);
    return { entra, settings, webApp, tasksApiUrl, profileApiUrl, close: closeAll };
  } catch (error) {
    await closeAll();
    throw error;
  }
}

/** The URL of every tier, for the console. */
export function describeTiers(sample: RunningSample): string[] {
  return [
    `web app (sign in here):        ${sample.webApp.url}`,
    `tasks API (middle tier):       ${sample.tasksApiUrl}  (bearer token for ${sample.settings.tasksApi.scope})`,
    `profile API (downstream):      ${sample.profileApiUrl}  (bearer token for ${sample.settings.profileApi.readScope})`,
    sample.entra
      ? `Entra ID emulator (authority): ${sample.entra.authority()}`
      : `Entra ID (authority):          ${sample.settings.authorityHost}/${sample.settings.tenantId}`,
  ];
}

async function main(): Promise<void> {
  const log = (line: string) => console.log(line);
  let sample: RunningSample;
  try {
    sample = await startSample();
  } catch (error) {
    // A taken port is the user's to fix: one line that says how, and an exit without a stack trace.
    if (!(error instanceof PortInUseError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
    return;
  }
  // Registered before the walkthrough, so Ctrl-C at any point closes the servers and the emulator.
  const stop = () => void sample.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  for (const line of describeTiers(sample)) log(line);
  try {
    const stats = await runDaemon(sample.settings, sample.tasksApiUrl, sample.entra?.networkClient);
    log(`daemon (client credentials) -> tasks API -> profile API (app token): ${JSON.stringify(stats)}`);
    // The walkthrough signs in scripted users and counts exchanges at the identity provider: emulator only.
    if (sample.entra) await runWalkthrough(sample.entra, sample.webApp.url, log);
    else log('A real tenant is configured: the scripted walkthrough needs the emulator and is skipped.');
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    await sample.close();
    process.exit(1);
  }
  if (sample.entra) {
    log('');
    for (const line of trustInstructions(await writeEmulatorCa(sample.entra.caCertificatePem))) log(line);
  }
  log(`\nOpen ${sample.webApp.url} in a browser: sign in as alice@contoso.onmicrosoft.com, or as bob@contoso.onmicrosoft.com for the MFA step-up. Ctrl-C stops.`);
}

// Run only as the entry point, not when a test imports startSample.
if (process.argv[1]?.endsWith('main.js')) void main();
