import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { ConfidentialClientApplication, CryptoProvider, type INetworkModule } from '@azure/msal-node';
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import { parseWwwAuthenticate } from 'nestjs-entra-obo';
import type { EntraSettings } from '../settings.js';
import { escape, homePage, signedOutPage, stepUpFailedPage, stepUpPage, type HomeView } from './pages.js';
import { SignInRequired, tasksApiToken } from './tasks-api-token.js';

declare module 'express-session' {
  interface SessionData {
    pkceVerifier?: string;
    state?: string;
    /** The signed-in account in MSAL's token cache (tokens stay server-side: the browser only has the session cookie). */
    homeAccountId?: string;
    name?: string;
    username?: string;
    /** A claims challenge from the tasks API, to send with the next sign-in. */
    claims?: string;
    /** The claims sent with the sign-in in progress. */
    claimsSent?: string;
    /** The claims the current sign-in satisfied: a second challenge for the same claims must not loop. */
    satisfiedClaims?: string;
    /** When a sign-in that carried a claims challenge (a step-up: the second factor) completed. */
    secondFactorAt?: string;
    returnTo?: string;
  }
}

export interface WebApp {
  url: string;
  close(): Promise<void>;
}

/** The claims of an `insufficient_claims` challenge in `WWW-Authenticate` (decoded from base64), or undefined. */
export function claimsChallengeOf(response: globalThis.Response): string | undefined {
  const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
  return challenge?.error === 'insufficient_claims' ? challenge.claims : undefined;
}

/**
 * The web app: signs users in with authorization code + PKCE (msal-node), keeps their tokens in MSAL's cache on the
 * server, renews the tasks API's token silently (refresh token) and signs the user in again only when Entra refuses
 * to renew it. When the tasks API answers with a claims challenge (MFA), it explains the step-up, signs the user in
 * again with those claims, and shows that the second factor was used.
 */
export async function startWebApp(entra: EntraSettings, port: number, tasksApiUrl: string, networkClient?: INetworkModule): Promise<WebApp> {
  const msal = new ConfidentialClientApplication({
    auth: {
      clientId: entra.webApp.clientId,
      clientSecret: entra.webApp.clientSecret,
      authority: `${entra.authorityHost}/${entra.tenantId}`,
      knownAuthorities: [new URL(entra.authorityHost).host],
    },
    ...(networkClient ? { system: { networkClient } } : {}),
  });
  const scopes = [entra.tasksApi.scope];
  const pkce = new CryptoProvider();
  const app = express();
  app.use(session({ secret: randomBytes(32).toString('hex'), resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax' } }));
  let baseUrl = '';
  const redirectUri = () => `${baseUrl}/auth/callback`;

  const call = async (request: Request, path: string, forceRefresh = false) => {
    const token = await tasksApiToken(msal, request.session.homeAccountId, scopes, forceRefresh);
    return fetch(`${tasksApiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  };
  /** Calls the tasks API; a 401 that is not a claims challenge (the token expired by the API's clock) renews it once. */
  const callTasksApi = async (request: Request, path: string) => {
    const response = await call(request, path);
    if (response.status !== 401 || claimsChallengeOf(response)) return response;
    const renewed = await call(request, path, true);
    if (renewed.status === 401 && !claimsChallengeOf(renewed)) throw new SignInRequired('the tasks API refused a renewed token');
    return renewed;
  };

  app.get('/auth/sign-in', async (request: Request, response: Response) => {
    const { verifier, challenge } = await pkce.generatePkceCodes();
    request.session.pkceVerifier = verifier;
    request.session.state = randomBytes(16).toString('hex');
    request.session.claimsSent = request.session.claims;
    // A step-up signs in the same user again: naming them spares them the account picker.
    const queryHint = typeof request.query.login_hint === 'string' ? request.query.login_hint : undefined;
    const loginHint = queryHint ?? (request.session.claims ? request.session.username : undefined);
    const url = await msal.getAuthCodeUrl({
      scopes,
      redirectUri: redirectUri(),
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
      state: request.session.state,
      ...(loginHint ? { loginHint } : {}),
      ...(request.session.claims ? { claims: request.session.claims } : {}),
    });
    response.redirect(url);
  });

  app.get('/auth/callback', async (request: Request, response: Response) => {
    if (typeof request.query.error === 'string') {
      response.status(400).send(`<p>Sign-in failed: ${escape(request.query.error)}</p><p><a href="/">Home</a></p>`);
      return;
    }
    if (request.query.state !== request.session.state || !request.session.pkceVerifier) {
      response.status(400).send('<p>Sign-in state mismatch. <a href="/auth/sign-in">Try again</a></p>');
      return;
    }
    const result = await msal.acquireTokenByCode({ code: String(request.query.code), redirectUri: redirectUri(), scopes, codeVerifier: request.session.pkceVerifier });
    request.session.homeAccountId = result.account?.homeAccountId;
    request.session.name = result.account?.name ?? result.account?.username ?? 'you';
    request.session.username = result.account?.username;
    delete request.session.pkceVerifier;
    // Entra completes a sign-in that carried the claims challenge only once the second factor was given: that is how
    // the web app knows, from the sign-in itself (v2 tokens carry no `amr` to read it from).
    if (request.session.claimsSent) request.session.secondFactorAt = new Date().toISOString();
    else delete request.session.secondFactorAt;
    request.session.satisfiedClaims = request.session.claimsSent;
    delete request.session.claims;
    delete request.session.claimsSent;
    response.redirect(request.session.returnTo ?? '/');
  });

  app.get('/auth/sign-out', async (request: Request, response: Response) => {
    const account = request.session.homeAccountId ? await msal.getTokenCache().getAccountByHomeId(request.session.homeAccountId) : null;
    if (account) await msal.getTokenCache().removeAccount(account);
    request.session.destroy(() => response.redirect(`${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(`${baseUrl}/`)}`));
  });

  /** Remembers a claims challenge for the next sign-in; false when this sign-in already answered the same one. */
  const acceptChallenge = (request: Request, claims: string) => {
    if (claims === request.session.satisfiedClaims) return false;
    request.session.claims = claims;
    request.session.returnTo = '/';
    return true;
  };

  /** What the page shows, as JSON (the walkthrough and tests read it). */
  app.get('/me.json', async (request: Request, response: Response) => {
    if (!request.session.homeAccountId) {
      response.status(401).json({ signedIn: false });
      return;
    }
    try {
      const me = await callTasksApi(request, '/me');
      const claims = claimsChallengeOf(me);
      if (claims) {
        const stepUp = acceptChallenge(request, claims);
        response.status(stepUp ? 401 : 403).json({ signedIn: true, stepUpRequired: stepUp, ...(stepUp ? { signIn: '/auth/sign-in' } : {}) });
        return;
      }
      const tasks = await callTasksApi(request, '/tasks');
      response.json({ signedIn: true, name: request.session.name, secondFactorAt: request.session.secondFactorAt ?? null, me: await me.json(), tasks: await tasks.json() });
    } catch (error) {
      if (!(error instanceof SignInRequired)) throw error;
      response.status(401).json({ signedIn: false, signIn: '/auth/sign-in' });
    }
  });

  /** The CAE demonstration: the tasks API's call that the profile API challenges, answered by one retry. */
  app.get('/cae-demo.json', async (request: Request, response: Response) => {
    if (!request.session.homeAccountId) {
      response.status(401).json({ signedIn: false });
      return;
    }
    try {
      const demo = await callTasksApi(request, '/cae-demo');
      response.status(demo.status).json(await demo.json());
    } catch (error) {
      if (!(error instanceof SignInRequired)) throw error;
      response.status(401).json({ signedIn: false, signIn: '/auth/sign-in' });
    }
  });

  app.get('/', async (request: Request, response: Response) => {
    if (!request.session.homeAccountId) {
      response.send(signedOutPage());
      return;
    }
    try {
      const me = await callTasksApi(request, '/me');
      const claims = claimsChallengeOf(me);
      if (claims) {
        // Signing in again with the same claims did not satisfy the API: asking once more would loop forever.
        if (!acceptChallenge(request, claims)) response.status(403).send(stepUpFailedPage());
        else response.status(401).send(stepUpPage(request.session.username ?? request.session.name ?? 'you'));
        return;
      }
      const body = (await me.json()) as Pick<HomeView, 'profile' | 'graph' | 'downstreamTokenFromCache'>;
      const { tasks } = (await (await callTasksApi(request, '/tasks')).json()) as { tasks: string[] };
      response.send(homePage({ ...body, tasks, name: request.session.name ?? 'you', ...(request.session.secondFactorAt ? { secondFactorAt: request.session.secondFactorAt } : {}) }));
    } catch (error) {
      if (!(error instanceof SignInRequired)) throw error;
      // Entra would not renew the session's tokens (expired or revoked refresh token): sign in again, then come back.
      request.session.returnTo = '/';
      response.redirect('/auth/sign-in');
    }
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1');
    listening.once('error', reject);
    listening.once('listening', () => {
      listening.off('error', reject);
      resolve(listening);
    });
  });
  baseUrl = `http://localhost:${(server.address() as { port: number }).port}`;
  return { url: baseUrl, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
