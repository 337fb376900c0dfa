// `npm start`: the emulator, the three tiers, the daemon once and the walkthrough; then it serves until Ctrl-C.
import type { INestApplication } from '@nestjs/common';
import { startEntraEmulator, type EntraEmulator } from 'nestjs-entra-obo/testing';
import { runDaemon } from './daemon.js';
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
  close(): Promise<void>;
}

function fromEmulator(entra: EntraEmulator): EntraSettings {
  const { tenants, apps } = entra.defaults;
  return {
    authorityHost: entra.authorityHost,
    tenantId: tenants.primary.id,
    fetch: entra.fetch,
    webApp: { clientId: apps.webApp.app.clientId, clientSecret: apps.webApp.clientSecret },
    tasksApi: { clientId: apps.middleTierApi.app.clientId, clientSecret: apps.middleTierApi.clientSecret, scope: apps.middleTierApi.scope },
    profileApi: { clientId: apps.downstreamApi.app.clientId, readScope: apps.downstreamApi.scopes.read, defaultScope: apps.downstreamApi.defaultScope },
    daemon: { clientId: apps.daemon.app.clientId, clientSecret: apps.daemon.clientSecret },
  };
}

/** Starts everything on loopback. Ports of 0 pick free ones (the tests do that). */
export async function startSample(ports = sampleSettings()): Promise<RunningSample> {
  const real = entraSettingsFromEnvironment();
  const entra = real ? undefined : await startEntraEmulator({ port: ports.emulatorPort });
  const settings = real ?? fromEmulator(entra!);
  const apps: INestApplication[] = [];
  const profileApi = await startProfileApi(settings, ports.profileApiPort);
  apps.push(profileApi);
  const profileApiUrl = await profileApi.getUrl();
  const tasksApi = await startTasksApi(settings, ports.tasksApiPort, profileApiUrl.replace('[::1]', '127.0.0.1'));
  apps.push(tasksApi);
  const tasksApiUrl = (await tasksApi.getUrl()).replace('[::1]', '127.0.0.1');
  const webApp = await startWebApp(settings, ports.webAppPort, tasksApiUrl, entra?.networkClient);
  return {
    entra,
    settings,
    webApp,
    tasksApiUrl,
    close: async () => {
      await webApp.close();
      for (const app of apps.reverse()) await app.close();
      await entra?.close();
    },
  };
}

async function main(): Promise<void> {
  const sample = await startSample();
  const log = (line: string) => console.log(line);
  // Registered before the walkthrough, so Ctrl-C at any point closes the servers and the emulator.
  const stop = () => void sample.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
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
  log(`\nOpen ${sample.webApp.url} in a browser: sign in as alice@contoso.onmicrosoft.com, or as bob@contoso.onmicrosoft.com for the MFA step-up. Ctrl-C stops.`);
}

// Run only as the entry point, not when a test imports startSample.
if (process.argv[1]?.endsWith('main.js')) void main();
