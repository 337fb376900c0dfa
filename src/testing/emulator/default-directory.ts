import {
  MICROSOFT_GRAPH_APP_ID,
  MICROSOFT_GRAPH_RESOURCE,
  type AddAppInput,
  type AppCertificateCredential,
  type EmulatorApp,
  type EmulatorDirectory,
  type EmulatorTenant,
  type EmulatorUser,
} from './directory.js';
import type { ConditionalAccessPolicy, EmulatorPolicies } from './policies.js';

/** Fixed ids, so that configuration written for the default directory works across restarts of the emulator. */
export const DEFAULT_DIRECTORY_IDS = {
  tenants: {
    primary: '08ca7782-ab9b-4297-96fe-a80d943ee9f4',
    secondary: '089e132e-0576-4995-8e9f-c29a34520bec',
  },
  users: {
    member: 'd09fdcc1-d26e-48e6-baa5-5305c1dcbf61',
    mfaUser: '908eb5f9-40bd-40dc-bad0-b8018d95a675',
    secondTenantMember: '4abfd6db-1732-4058-bcf2-39949fcdb238',
    guest: '09efc45b-f17a-4475-ae9b-aa41b193e9eb',
  },
  apps: {
    webApp: 'f37e7bde-821f-46e0-a8dd-c857d10b7cbd',
    middleTierApi: '1f75d70b-655c-41a6-a281-4cee5f0ff250',
    downstreamApi: '4be5f7f9-113b-4b0c-ad05-8a388f71bb11',
    daemon: '992f61be-d133-4100-befe-58c164c8e04e',
  },
} as const;

/** The seeded directory: what each entity is for, with the credentials a client needs. */
export interface DefaultDirectory {
  tenants: {
    /** Contoso: where the apps are registered and most users live. */
    primary: EmulatorTenant;
    /** Fabrikam: another organisation, whose member is a guest in Contoso. */
    secondary: EmulatorTenant;
  };
  users: {
    /** Alice, a plain member of the primary tenant. */
    member: EmulatorUser;
    /** Bob, a member of the primary tenant under an MFA policy for the downstream API. */
    mfaUser: EmulatorUser;
    /** Dave, a member of the secondary tenant (for multi-tenant calls at his own tenant). */
    secondTenantMember: EmulatorUser;
    /** Dave's guest account in the primary tenant (`acct` 1, `idp` = Fabrikam). */
    guest: EmulatorUser;
  };
  apps: {
    /** A confidential web client that signs users in and calls the middle tier. */
    webApp: { app: EmulatorApp; clientSecret: string; redirectUri: string };
    /** The middle-tier API: exposes `access_as_user`, calls the downstream API on behalf of users and as itself. */
    middleTierApi: { app: EmulatorApp; clientSecret: string; certificate: AppCertificateCredential; scope: string };
    /** The downstream API: delegated scopes `Profile.Read`, `Profile.Write`; app role `Directory.Read.All`. */
    downstreamApi: { app: EmulatorApp; scopes: { read: string; write: string }; defaultScope: string };
    /** A daemon with application permissions on both APIs. */
    daemon: { app: EmulatorApp; clientSecret: string };
    /**
     * Microsoft Graph, present in every tenant (not seeded: it is part of every directory). The middle tier holds
     * delegated `User.Read` on it, so it can call Graph on behalf of its users.
     */
    microsoftGraph: { app: EmulatorApp; scopes: { userRead: string }; defaultScope: string };
  };
  policies: {
    /** The MFA policy: `mfaUser` needs a second factor for the downstream API. */
    mfaForDownstream: ConditionalAccessPolicy;
  };
}

export async function seedDefaultDirectory(directory: EmulatorDirectory, policies: EmulatorPolicies): Promise<DefaultDirectory> {
  const ids = DEFAULT_DIRECTORY_IDS;
  const primary = directory.addTenant({ id: ids.tenants.primary, displayName: 'Contoso', domain: 'contoso.onmicrosoft.com' });
  const secondary = directory.addTenant({ id: ids.tenants.secondary, displayName: 'Fabrikam', domain: 'fabrikam.onmicrosoft.com' });

  const member = directory.addUser({ id: ids.users.member, tenantId: primary.id, username: 'alice', displayName: 'Alice Anderson' });
  const mfaUser = directory.addUser({ id: ids.users.mfaUser, tenantId: primary.id, username: 'bob', displayName: 'Bob Baker' });
  const secondTenantMember = directory.addUser({ id: ids.users.secondTenantMember, tenantId: secondary.id, username: 'dave', displayName: 'Dave Davis' });
  const guest = directory.addGuest({ member: secondTenantMember, tenantId: primary.id, id: ids.users.guest });

  // Every app is registered in Contoso; the three that sign users in accept users of any organisation.
  const contosoApp = (clientId: string, displayName: string, registration: Omit<AddAppInput, 'clientId' | 'tenantId' | 'displayName'>) =>
    directory.addApp({ clientId, tenantId: primary.id, displayName, ...registration });
  const multiOrg = 'AzureADMultipleOrgs' as const;
  const downstreamApi = contosoApp(ids.apps.downstreamApi, 'Contoso Profile API', { signInAudience: multiOrg, scopes: ['Profile.Read', 'Profile.Write'], appRoles: ['Directory.Read.All'] });
  const middleTierApi = contosoApp(ids.apps.middleTierApi, 'Contoso Tasks API', {
    signInAudience: multiOrg,
    scopes: ['access_as_user'],
    appRoles: ['Tasks.Read.All'],
    apiPermissions: { [downstreamApi.clientId]: ['Profile.Read', 'Profile.Write'], [MICROSOFT_GRAPH_APP_ID]: ['User.Read'] },
    appPermissions: { [downstreamApi.clientId]: ['Directory.Read.All'] },
  });
  const webApp = contosoApp(ids.apps.webApp, 'Contoso Web', {
    signInAudience: multiOrg,
    redirectUris: ['http://localhost/auth/callback', 'http://127.0.0.1/auth/callback'],
    postLogoutRedirectUris: ['http://localhost/', 'http://127.0.0.1/'],
    apiPermissions: { [middleTierApi.clientId]: ['access_as_user'], [MICROSOFT_GRAPH_APP_ID]: ['User.Read'] },
  });
  const daemon = contosoApp(ids.apps.daemon, 'Contoso Nightly Job', {
    appPermissions: { [middleTierApi.clientId]: ['Tasks.Read.All'], [downstreamApi.clientId]: ['Directory.Read.All'] },
  });

  const downstreamUri = downstreamApi.identifierUris[0]!;
  return {
    tenants: { primary, secondary },
    users: { member, mfaUser, secondTenantMember, guest },
    apps: {
      webApp: { app: webApp, clientSecret: directory.addSecret(webApp.clientId), redirectUri: 'http://localhost:3000/auth/callback' },
      middleTierApi: {
        app: middleTierApi,
        clientSecret: directory.addSecret(middleTierApi.clientId),
        certificate: await directory.generateCertificate(middleTierApi.clientId),
        scope: `${middleTierApi.identifierUris[0]}/access_as_user`,
      },
      downstreamApi: {
        app: downstreamApi,
        scopes: { read: `${downstreamUri}/Profile.Read`, write: `${downstreamUri}/Profile.Write` },
        defaultScope: `${downstreamUri}/.default`,
      },
      daemon: { app: daemon, clientSecret: directory.addSecret(daemon.clientId) },
      microsoftGraph: {
        app: directory.microsoftGraph,
        scopes: { userRead: `${MICROSOFT_GRAPH_RESOURCE}/User.Read` },
        defaultScope: `${MICROSOFT_GRAPH_RESOURCE}/.default`,
      },
    },
    policies: { mfaForDownstream: policies.requireMfa({ resource: downstreamApi.clientId, users: [mfaUser.id] }) },
  };
}
