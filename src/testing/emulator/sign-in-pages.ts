import type { EmulatorApp, EmulatorTenant, EmulatorUser } from './directory.js';
import { escapeHtml } from './http.js';

const STYLE = `
  body { font-family: "Segoe UI", system-ui, sans-serif; background: #f2f2f2; margin: 0; color: #1b1b1b; }
  main { max-width: 440px; margin: 8vh auto; background: #fff; padding: 44px; box-shadow: 0 2px 6px rgba(0,0,0,.2); }
  h1 { font-size: 1.5rem; font-weight: 600; margin: 0 0 .5rem; }
  p.banner { font-size: .8rem; color: #605e5c; margin: 0 0 1.5rem; }
  ul { list-style: none; padding: 0; margin: 0; }
  li form { margin: 0 0 .5rem; }
  button { width: 100%; text-align: left; border: 1px solid #8a8886; background: #fff; padding: .75rem 1rem; font-size: 1rem; cursor: pointer; }
  button:hover, button:focus { background: #f3f2f1; }
  button.primary { background: #0067b8; color: #fff; border: none; text-align: center; }
  .user-name { display: block; font-weight: 600; }
  .user-login { display: block; font-size: .85rem; color: #605e5c; }
  .code { font-family: ui-monospace, monospace; font-size: 1.6rem; letter-spacing: .3rem; display: block; margin: .5rem 0 1rem; }
  label { display: block; margin: .5rem 0; }
  input[type=text] { width: 100%; box-sizing: border-box; padding: .5rem; font-size: 1.1rem; margin-bottom: 1rem; }
  .error { color: #a80000; }
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>
<p class="banner">Entra ID emulator: a local identity provider for development and tests. Not Microsoft.</p>
${body}
</main></body></html>`;
}

export function accountPickerPage(input: {
  action: string;
  transactionId: string;
  client: EmulatorApp;
  tenant: EmulatorTenant | undefined;
  users: EmulatorUser[];
  error?: string;
}): string {
  const where = input.tenant ? input.tenant.displayName : 'your organization';
  const items = input.users
    .map(
      (user) => `<li><form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.transactionId)}"><input type="hidden" name="step" value="select">
<button type="submit" name="user" value="${escapeHtml(user.id)}" data-username="${escapeHtml(user.username)}">
<span class="user-name">${escapeHtml(user.displayName)}</span><span class="user-login">${escapeHtml(user.username)}${user.homeTenantId ? ' (guest)' : ''}</span>
</button></form></li>`,
    )
    .join('\n');
  return page(
    'Sign in to your account',
    `<h1>Pick an account</h1>
<p>to continue to <strong>${escapeHtml(input.client.displayName)}</strong> at ${escapeHtml(where)}</p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
${input.users.length > 0 ? `<ul aria-label="Accounts">${items}</ul>` : '<p>No account can sign in here.</p>'}`,
  );
}

export function secondFactorPage(input: { action: string; transactionId: string; user: EmulatorUser; code: string; error?: string }): string {
  return page(
    'Verify your identity',
    `<h1>Verify your identity</h1>
<p>${escapeHtml(input.user.username)} must approve this sign-in with a second factor.</p>
<p>Your authenticator shows the code: <output class="code" id="verification-code" data-code="${escapeHtml(input.code)}">${escapeHtml(input.code)}</output></p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="tx" value="${escapeHtml(input.transactionId)}"><input type="hidden" name="step" value="mfa">
<label for="otc">Enter code</label>
<input type="text" id="otc" name="otc" inputmode="numeric" autocomplete="one-time-code" required>
<button type="submit" class="primary">Verify</button>
</form>`,
  );
}

/** `response_mode=form_post`: the browser posts the result to the redirect URI. */
export function formPostPage(redirectUri: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return page(
    'Working...',
    `<form method="post" action="${escapeHtml(redirectUri)}" id="response">${inputs}<noscript><button type="submit">Continue</button></noscript></form>
<script>document.getElementById('response').submit();</script>`,
  );
}

export function errorPage(message: string): string {
  return page('Sign in', `<h1>Sorry, but we're having trouble signing you in.</h1><p class="error" role="alert">${escapeHtml(message)}</p>`);
}

export function signedOutPage(): string {
  return page('Signed out', '<h1>You signed out of your account</h1><p>It\'s a good idea to close all browser windows.</p>');
}
