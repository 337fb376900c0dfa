import { ConfidentialClientApplication, type INetworkModule } from '@azure/msal-node';
import type { EntraSettings } from './settings.js';

/** The daemon: no user, its own identity (client credentials), calling the tasks API's app-only endpoint. */
export async function runDaemon(entra: EntraSettings, tasksApiUrl: string, networkClient?: INetworkModule): Promise<unknown> {
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: entra.daemon.clientId,
      clientSecret: entra.daemon.clientSecret,
      authority: `${entra.authorityHost}/${entra.tenantId}`,
      knownAuthorities: [new URL(entra.authorityHost).host],
    },
    ...(networkClient ? { system: { networkClient } } : {}),
  });
  const tasksApiDefaultScope = entra.tasksApi.scope.replace(/\/access_as_user$/, '/.default');
  const result = await msal.acquireTokenByClientCredential({ scopes: [tasksApiDefaultScope] });
  const response = await fetch(`${tasksApiUrl}/admin/stats`, { headers: { authorization: `Bearer ${result!.accessToken}` } });
  if (!response.ok) throw new Error(`the tasks API answered ${response.status} to the daemon`);
  return response.json();
}
