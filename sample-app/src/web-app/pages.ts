/** The web app's HTML. Every value that came from a token or an API is escaped. */
export function escape(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

export function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Contoso Tasks</title>
<style>body{font-family:system-ui,sans-serif;max-width:720px;margin:3rem auto;color:#1b1b1b}dt{font-weight:600}dd{margin:0 0 .5rem}code{font-size:.85rem}.button{background:#0067b8;color:#fff;padding:.5rem 1rem;text-decoration:none}.note{background:#f3f2f1;padding:.75rem 1rem}</style>
</head><body><h1>Contoso Tasks</h1>${body}</body></html>`;
}

export const signedOutPage = () => page('<p>You are not signed in.</p><p><a class="button" href="/auth/sign-in">Sign in</a></p>');

/**
 * Before the second sign-in of a step-up: why it happens and what comes next, so that the user is not surprised by
 * a sign-in they just did, again.
 */
export function stepUpPage(username: string): string {
  return page(`<h2 id="step-up">One more step: a second factor</h2>
<p class="note">The profile API, which the tasks API calls on your behalf, requires multi-factor authentication for
<strong>${escape(username)}</strong> (a Conditional Access policy). Your sign-in used a password only, so Entra ID
refused the tasks API's On-Behalf-Of request and answered with a claims challenge.</p>
<p>Continue to sign in again as <strong>${escape(username)}</strong>, with that challenge: Entra ID asks for a second
factor (a one-time code), then you come back here.</p>
<p><a class="button" href="/auth/sign-in">Continue with a second factor</a> <a href="/auth/sign-out">Sign out</a></p>`);
}

export interface HomeView {
  name: string;
  /** When the sign-in behind this session completed a second factor (a step-up), as the web app saw it. */
  secondFactorAt?: string;
  tasks: string[];
  profile: { name: string; username: string; identityChain: Record<string, unknown> };
  /** The user's Microsoft Graph `/me`, as the tasks API read it on their behalf. */
  graph: { id: string; displayName: string; userPrincipalName: string };
  downstreamTokenFromCache: boolean;
}

export function homePage(view: HomeView): string {
  const secondFactor = view.secondFactorAt
    ? `password and a second factor: the step-up the profile API asked for, completed at ${escape(view.secondFactorAt)}`
    : 'password only (no second factor was asked for)';
  return page(`<p>Signed in as <strong>${escape(view.name)}</strong>. <a href="/auth/sign-out">Sign out</a></p>
<p id="sign-in-method">Sign-in: ${secondFactor}.</p>
<h2>Your tasks (tasks API)</h2><ul>${view.tasks.map((task) => `<li>${escape(task)}</li>`).join('')}</ul>
<h2>Your profile, as the profile API saw the call</h2>
<dl><dt>Name</dt><dd>${escape(view.profile.name)}</dd><dt>Username</dt><dd>${escape(view.profile.username)}</dd>
${Object.entries(view.profile.identityChain).map(([name, value]) => `<dt>${escape(name)}</dt><dd><code>${escape(value)}</code></dd>`).join('')}
<dt>Downstream token from cache</dt><dd>${view.downstreamTokenFromCache ? 'yes' : 'no (an On-Behalf-Of exchange just happened)'}</dd></dl>
<h2>You in Microsoft Graph (<code>/me</code>)</h2>
<dl id="graph-me"><dt>Display name</dt><dd>${escape(view.graph.displayName)}</dd><dt>User principal name</dt><dd>${escape(view.graph.userPrincipalName)}</dd>
<dt>Object id</dt><dd><code>${escape(view.graph.id)}</code></dd></dl>
<p><a href="/cae-demo.json">Continuous access evaluation: the profile API challenges a token, the tasks API retries once</a></p>`);
}

export const stepUpFailedPage = () => page('<p>The profile API still requires a step-up this sign-in could not satisfy.</p><p><a href="/auth/sign-out">Sign out</a></p>');
