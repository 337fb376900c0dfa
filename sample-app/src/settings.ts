/**
 * The sample's settings, from environment variables with defaults. With `ENTRA_AUTHORITY_HOST` unset, the sample starts
 * the Entra ID emulator and takes every id and secret from its default directory; set the variables to use a real tenant.
 */
export interface SampleSettings {
  webAppPort: number;
  tasksApiPort: number;
  profileApiPort: number;
  emulatorPort: number;
}

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${name} must be a port number, got '${process.env[name]}'`);
  return value;
}

export function sampleSettings(): SampleSettings {
  return {
    webAppPort: port('WEB_APP_PORT', 3000),
    tasksApiPort: port('TASKS_API_PORT', 3001),
    profileApiPort: port('PROFILE_API_PORT', 3002),
    emulatorPort: port('ENTRA_EMULATOR_PORT', 44321),
  };
}

/** What the three tiers need to know about Entra: from the emulator, or from a real tenant's registrations. */
export interface EntraSettings {
  authorityHost: string;
  tenantId: string;
  /** The `fetch` to reach Entra with (the emulator's pins its CA; a real tenant uses the global one). */
  fetch: typeof fetch;
  /** Microsoft Graph's base URL: `https://graph.microsoft.com/v1.0`, or the emulator's Graph stand-in. */
  graphBaseUrl: string;
  /** The `fetch` the tasks API calls its downstream APIs with (the profile API over loopback HTTP, and Graph). */
  downstreamFetch: typeof fetch;
  webApp: { clientId: string; clientSecret: string };
  tasksApi: { clientId: string; clientSecret: string; scope: string };
  profileApi: { clientId: string; readScope: string; defaultScope: string };
  daemon: { clientId: string; clientSecret: string };
  /** The clock the APIs judge tokens by: the emulator's (so a test can move time), or the system's for a real tenant. */
  clock?: { nowMs(): number };
}

/** A real tenant, from the environment (see the README's "Switching to a real tenant"). */
export function entraSettingsFromEnvironment(): EntraSettings | undefined {
  if (!process.env.ENTRA_AUTHORITY_HOST) return undefined;
  const required = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required when ENTRA_AUTHORITY_HOST is set`);
    return value;
  };
  const profileUri = required('PROFILE_API_APP_ID_URI');
  return {
    authorityHost: required('ENTRA_AUTHORITY_HOST'),
    tenantId: required('ENTRA_TENANT_ID'),
    fetch: globalThis.fetch,
    graphBaseUrl: 'https://graph.microsoft.com/v1.0',
    downstreamFetch: globalThis.fetch,
    webApp: { clientId: required('WEB_APP_CLIENT_ID'), clientSecret: required('WEB_APP_CLIENT_SECRET') },
    tasksApi: { clientId: required('TASKS_API_CLIENT_ID'), clientSecret: required('TASKS_API_CLIENT_SECRET'), scope: `${required('TASKS_API_APP_ID_URI')}/access_as_user` },
    profileApi: { clientId: required('PROFILE_API_CLIENT_ID'), readScope: `${profileUri}/Profile.Read`, defaultScope: `${profileUri}/.default` },
    daemon: { clientId: required('DAEMON_CLIENT_ID'), clientSecret: required('DAEMON_CLIENT_SECRET') },
  };
}
