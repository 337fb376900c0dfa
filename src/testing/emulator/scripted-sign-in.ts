export interface SignInOptions {
  /** Sign-in name or object id of the account to pick on the account picker. */
  username?: string;
  /** Enter the second factor when the page asks for one (default true); false stops with an error instead. */
  completeSecondFactor?: boolean;
}

function unescapeHtml(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function attribute(html: string, pattern: RegExp, what: string): string {
  const match = pattern.exec(html);
  if (!match?.[1]) throw new Error(`Sign-in: the page did not show ${what}`);
  return unescapeHtml(match[1]);
}

/**
 * Walks the emulator's sign-in pages over HTTP the way a person in a browser would, reading the same HTML: the account
 * picker's buttons and the second-factor page's code. Returns the redirect back to the app.
 */
export async function completeSignIn(fetchImplementation: typeof fetch, authorizeUrl: string, options: SignInOptions): Promise<URL> {
  let response = await fetchImplementation(authorizeUrl, { redirect: 'manual' });
  for (let step = 0; step < 3; step += 1) {
    if (response.status === 302) return new URL(response.headers.get('location')!);
    const html = await response.text();
    if (response.status !== 200) throw new Error(`Sign-in failed with HTTP ${response.status}: ${html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()}`);
    const formPost = /<form method="post" action="([^"]+)" id="response">/.exec(html);
    if (formPost) {
      // response_mode=form_post: report the posted fields on the redirect URI, as the app would receive them.
      const target = new URL(unescapeHtml(formPost[1]!));
      for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) target.searchParams.set(unescapeHtml(name!), unescapeHtml(value!));
      return target;
    }
    const action = attribute(html, /<form method="post" action="([^"]+)"/, 'a form');
    const transactionId = attribute(html, /name="tx" value="([^"]+)"/, 'a sign-in transaction');
    const form = new URLSearchParams({ tx: transactionId });
    if (html.includes('id="verification-code"')) {
      if (options.completeSecondFactor === false) throw new Error('Sign-in: a second factor is required');
      form.set('step', 'mfa');
      form.set('otc', attribute(html, /data-code="([^"]+)"/, 'the verification code'));
    } else {
      if (!options.username) throw new Error('Sign-in: the account picker is shown; pass the username to pick');
      const wanted = options.username.toLowerCase();
      const buttons = [...html.matchAll(/name="user" value="([^"]+)" data-username="([^"]+)"/g)];
      const button = buttons.find(([, id, username]) => id === wanted || unescapeHtml(username!).toLowerCase() === wanted);
      if (!button) throw new Error(`Sign-in: no account '${options.username}' on the account picker`);
      form.set('step', 'select');
      form.set('user', button[1]!);
    }
    response = await fetchImplementation(action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
  }
  throw new Error('Sign-in: the sign-in pages did not finish in three steps');
}
