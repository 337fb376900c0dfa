import type { EntraEmulator } from 'nestjs-entra-obo/testing';

const OBO_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** A browser stand-in: keeps the web app's session cookie and follows redirects by hand, as the walkthrough needs. */
class CookieBrowser {
  private cookie = '';

  constructor(private readonly entra: EntraEmulator) {}

  async get(url: string): Promise<Response> {
    // The emulator speaks HTTPS with its own CA: reach it through its pinned fetch; the web app is plain HTTP.
    const isEmulator = url.startsWith(this.entra.authorityHost);
    const response = await (isEmulator ? this.entra.fetch : fetch)(url, { redirect: 'manual', headers: this.cookie && !isEmulator ? { cookie: this.cookie } : {} });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie && !isEmulator) this.cookie = setCookie.split(';')[0]!;
    return response;
  }

  /** Follows redirects until a page answers, or until the next hop would be `stopAt`; returns the last response. */
  async follow(url: string, stopAt?: string): Promise<Response> {
    let response = await this.get(url);
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops += 1) {
      const next = new URL(response.headers.get('location')!, url).toString();
      if (next === stopAt) break;
      response = await this.get(next);
    }
    return response;
  }
}

type Log = (line: string) => void;

/**
 * The scripted tour: signs Alice in through the web app (login_hint, so no picker), calls the tasks API's /me through
 * the web app, prints the identity chain the profile API saw, her Graph `/me` and the token exchanges the emulator
 * counted, calls again to show the cache hit, then runs the CAE demonstration: the profile API challenges the tasks
 * API's token, and the tasks API answers with one new exchange and one retry. Throws naming the step that failed.
 */
export async function runWalkthrough(entra: EntraEmulator, webAppUrl: string, log: Log): Promise<void> {
  const step = async <T>(name: string, action: () => Promise<T>): Promise<T> => {
    try {
      return await action();
    } catch (error) {
      throw new Error(`walkthrough failed at "${name}": ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  const browser = new CookieBrowser(entra);
  const alice = entra.defaults.users.member;
  const exchanges = () => entra.tokenRequests({ grantType: OBO_GRANT }).length;

  const before = exchanges();
  await step('sign in through the web app', async () => {
    // Stop at the redirect to the home page: the next step makes the first call to the APIs itself.
    const landing = await browser.follow(`${webAppUrl}/auth/sign-in?login_hint=${encodeURIComponent(alice.username)}`, `${webAppUrl}/`);
    if (landing.status !== 302) throw new Error(`the sign-in ended with HTTP ${landing.status}`);
    log(`1. ${alice.displayName} signed in to the web app (authorization code + PKCE against the emulator)`);
  });

  const first = await step('call /me through the web app', async () => {
    const response = await browser.get(`${webAppUrl}/me.json`);
    if (response.status !== 200) throw new Error(`/me.json answered HTTP ${response.status}`);
    return (await response.json()) as {
      me: { profile: { identityChain: { oid: string; tid: string; azp: string } }; graph: { id: string; displayName: string }; downstreamTokenFromCache: boolean };
    };
  });
  const chain = first.me.profile.identityChain;
  log(`2. web app -> tasks API -> profile API (On-Behalf-Of). The profile API saw oid ${chain.oid}, tid ${chain.tid}, azp ${chain.azp} (the tasks API)`);
  log(`   token exchanges so far: ${exchanges() - before} (one for the profile API, one for Graph)`);
  if (chain.oid !== alice.id) throw new Error('walkthrough failed at "identity chain": the profile API did not see Alice');
  log(`   Microsoft Graph /me (the emulator's Graph, named API 'graph'): ${first.me.graph.displayName} (${first.me.graph.id})`);
  if (first.me.graph.id !== alice.id) throw new Error('walkthrough failed at "Graph /me": Graph did not answer for Alice');

  await step('call /me again (cache hit)', async () => {
    const countBefore = exchanges();
    const response = await browser.get(`${webAppUrl}/me.json`);
    const body = (await response.json()) as { me: { downstreamTokenFromCache: boolean } };
    if (!body.me.downstreamTokenFromCache || exchanges() !== countBefore) throw new Error('the second call made another exchange');
    log(`3. called again: served from the cache, token exchanges still ${exchanges() - before}`);
  });

  await step('CAE: a claims challenge answered by one re-exchange and one retry', async () => {
    const countBefore = exchanges();
    const response = await browser.get(`${webAppUrl}/cae-demo.json`);
    if (response.status !== 200) throw new Error(`/cae-demo.json answered HTTP ${response.status}`);
    const demo = (await response.json()) as { retried: boolean; challengesIssued: number };
    const made = exchanges() - countBefore;
    if (!demo.retried || made !== 1) throw new Error(`expected one challenge, one retry and one exchange; got ${JSON.stringify(demo)} and ${made} exchanges`);
    log(`4. CAE: the profile API challenged the tasks API's token; one exchange with the claims (${made}), one retry, answered`);
  });
  log('walkthrough succeeded');
}
