import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { ConfidentialClientApplication, CryptoProvider, type INetworkModule } from '@azure/msal-node';
import express, { type Request, type Response } from 'express';
import session from 'express-session';
import type { EntraSettings } from '../settings.js';

declare module 'express-session' {
  interface SessionData {
    pkceVerifier?: string;
    state?: string;
    /** The access token for the tasks API (kept server-side: the browser only has the session cookie). */
    tasksToken?: string;
    name?: string;
    /** A claims challenge from the tasks API, to send with the next sign-in. */
    claims?: string;
    /** The claims the current token was obtained with: a second challenge for the same claims must not loop. */
    satisfiedClaims?: string;
    returnTo?: string;
  }
}

export interface WebApp {
  url: string;
  close(): Promise<void>;
}

function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The claims of an RFC 6750 `insufficient_claims` challenge (base64 in `WWW-Authenticate`), or undefined. */
export function claimsChallengeOf(response: globalThis.Response): string | undefined {
  const header = response.headers.get('www-authenticate');
  const match = header ? /error="insufficient_claims".*claims="([^"]+)"/.exec(header) : null;
  return match ? Buffer.from(match[1]!, 'base64').toString('utf8') : undefined;
}

/**
 * The web app: signs users in with authorization code + PKCE (msal-node), keeps the tasks API's access token in a
 * server-side session, and renders what the APIs return. When the tasks API answers with a claims challenge (MFA),
 * it signs the user in again with those claims and retries.
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
  const pkce = new CryptoProvider();
  const app = express();
  app.use(session({ secret: randomBytes(32).toString('hex'), resave: false, saveUninitialized: false, cookie: { httpOnly: true, sameSite: 'lax' } }));
  let baseUrl = '';
  const redirectUri = () => `${baseUrl}/auth/callback`;

  const callTasksApi = (request: Request, path: string) => fetch(`${tasksApiUrl}${path}`, { headers: { authorization: `Bearer ${request.session.tasksToken}` } });

  app.get('/auth/sign-in', async (request: Request, response: Response) => {
    const { verifier, challenge } = await pkce.generatePkceCodes();
    request.session.pkceVerifier = verifier;
    request.session.state = randomBytes(16).toString('hex');
    const loginHint = typeof request.query.login_hint === 'string' ? request.query.login_hint : undefined;
    const url = await msal.getAuthCodeUrl({
      scopes: [entra.tasksApi.scope],
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
    const result = await msal.acquireTokenByCode({ code: String(request.query.code), redirectUri: redirectUri(), scopes: [entra.tasksApi.scope], codeVerifier: request.session.pkceVerifier });
    request.session.tasksToken = result.accessToken;
    request.session.name = result.account?.name ?? result.account?.username ?? 'you';
    delete request.session.pkceVerifier;
    request.session.satisfiedClaims = request.session.claims;
    delete request.session.claims;
    response.redirect(request.session.returnTo ?? '/');
  });

  app.get('/auth/sign-out', (request: Request, response: Response) => {
    request.session.destroy(() => response.redirect(`${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent(`${baseUrl}/`)}`));
  });

  /** What the page shows, as JSON (the walkthrough and tests read it). */
  app.get('/me.json', async (request: Request, response: Response) => {
    if (!request.session.tasksToken) {
      response.status(401).json({ signedIn: false });
      return;
    }
    const [me, tasks] = await Promise.all([callTasksApi(request, '/me'), callTasksApi(request, '/tasks')]);
    const claims = claimsChallengeOf(me);
    if (claims) {
      // Step-up: remember the challenge; the next sign-in sends it, and Entra asks for the second factor.
      request.session.claims = claims;
      request.session.returnTo = '/';
      response.status(401).json({ signedIn: true, stepUpRequired: true, signIn: '/auth/sign-in' });
      return;
    }
    response.json({ signedIn: true, name: request.session.name, me: await me.json(), tasks: await tasks.json() });
  });

  app.get('/', async (request: Request, response: Response) => {
    if (!request.session.tasksToken) {
      response.send(page('<p>You are not signed in.</p><p><a class="button" href="/auth/sign-in">Sign in</a></p>'));
      return;
    }
    const me = await callTasksApi(request, '/me');
    const claims = claimsChallengeOf(me);
    if (claims && claims === request.session.satisfiedClaims) {
      // Signing in again with the same claims did not satisfy the API: redirecting once more would loop forever.
      response.status(403).send(page('<p>The profile API still requires a step-up this sign-in could not satisfy.</p><p><a href="/auth/sign-out">Sign out</a></p>'));
      return;
    }
    if (claims) {
      request.session.claims = claims;
      request.session.returnTo = '/';
      response.redirect('/auth/sign-in');
      return;
    }
    const profile = (await me.json()) as { profile: { name: string; username: string; identityChain: Record<string, unknown> }; downstreamTokenFromCache: boolean };
    const tasks = (await (await callTasksApi(request, '/tasks')).json()) as { tasks: string[] };
    response.send(
      page(`<p>Signed in as <strong>${escape(request.session.name)}</strong>. <a href="/auth/sign-out">Sign out</a></p>
<h2>Your tasks (tasks API)</h2><ul>${tasks.tasks.map((task) => `<li>${escape(task)}</li>`).join('')}</ul>
<h2>Your profile, as the profile API saw the call</h2>
<dl><dt>Name</dt><dd>${escape(profile.profile.name)}</dd><dt>Username</dt><dd>${escape(profile.profile.username)}</dd>
${Object.entries(profile.profile.identityChain).map(([name, value]) => `<dt>${escape(name)}</dt><dd><code>${escape(value)}</code></dd>`).join('')}
<dt>Downstream token from cache</dt><dd>${profile.downstreamTokenFromCache ? 'yes' : 'no (an On-Behalf-Of exchange just happened)'}</dd></dl>`),
    );
  });

  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(port, '127.0.0.1', () => resolve(listening));
  });
  baseUrl = `http://localhost:${(server.address() as { port: number }).port}`;
  return { url: baseUrl, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contoso Tasks</title>
<style>body{font-family:system-ui,sans-serif;max-width:720px;margin:3rem auto;color:#1b1b1b}dt{font-weight:600}dd{margin:0 0 .5rem}code{font-size:.85rem}.button{background:#0067b8;color:#fff;padding:.5rem 1rem;text-decoration:none}</style>
</head><body><h1>Contoso Tasks</h1>${body}</body></html>`;
}
