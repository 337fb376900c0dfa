import { normalizeScopes, resourceOf, scopeListProblems, toScopeList } from './downstream-scopes.js';

describe('normalizeScopes', () => {
  it('ignores case, order, duplicates, surrounding space and blanks', () => {
    expect(normalizeScopes(['  api://B/Write', 'api://a/read', 'API://A/READ', '', '   ', 'api://b/write'])).toEqual(['api://a/read', 'api://b/write']);
  });

  it('maps equivalent lists to the same result', () => {
    expect(normalizeScopes(['User.Read', 'Mail.Send'])).toEqual(normalizeScopes(['mail.send', 'USER.READ', 'user.read']));
  });

  it('returns an empty list for nothing but blanks, and does not modify its input', () => {
    const input = Object.freeze(['b', 'A']);
    expect(normalizeScopes([' ', ''])).toEqual([]);
    expect(normalizeScopes(input)).toEqual(['a', 'b']);
    expect(input).toEqual(['b', 'A']);
  });
});

describe('resourceOf', () => {
  it('is the part before the last slash, lower-cased; a bare name is a Microsoft Graph scope', () => {
    expect(resourceOf('api://Profile-API/Profile.Read')).toBe('api://profile-api');
    expect(resourceOf('https://contoso.com/api/Read')).toBe('https://contoso.com/api');
    expect(resourceOf('User.Read')).toBe('https://graph.microsoft.com');
    expect(resourceOf('https://graph.microsoft.com/Mail.Read')).toBe('https://graph.microsoft.com');
    expect(resourceOf('00000003-0000-0000-c000-000000000000/User.Read')).toBe('https://graph.microsoft.com');
  });
});

describe('scopeListProblems', () => {
  it('accepts the scopes of one resource, Graph in any of its spellings, and one .default', () => {
    expect(scopeListProblems(['api://p/Read', 'API://P/Write'], 'on-behalf-of')).toEqual([]);
    expect(scopeListProblems(['User.Read', 'https://graph.microsoft.com/Mail.Read'], 'on-behalf-of')).toEqual([]);
    expect(scopeListProblems(['api://p/.default'], 'on-behalf-of')).toEqual([]);
    expect(scopeListProblems(['api://p/.default'], 'app')).toEqual([]);
  });

  it('names every problem: two resources, OpenID Connect scopes, .default mixed with named scopes', () => {
    expect(scopeListProblems(['api://a/Read', 'api://b/Read'], 'on-behalf-of')).toEqual([expect.stringContaining('api://a and api://b')]);
    expect(scopeListProblems(['api://a/Read', 'openid', 'offline_access'], 'on-behalf-of')).toEqual([expect.stringMatching(/^openid, offline_access: OpenID Connect/)]);
    expect(scopeListProblems(['api://a/.default', 'api://a/Read'], 'on-behalf-of')).toEqual([expect.stringContaining("'.default' cannot be combined")]);
    expect(scopeListProblems(['Profile.Read', 'api://a/Read', 'profile'], 'on-behalf-of')).toHaveLength(2);
    expect(scopeListProblems([], 'on-behalf-of')).toEqual(['at least one scope is required']);
  });

  it('requires exactly one {resource}/.default for client credentials', () => {
    expect(scopeListProblems(['api://a/Read'], 'app')).toEqual([expect.stringContaining('exactly one')]);
    expect(scopeListProblems(['api://a/.default', 'api://b/.default'], 'app')).toContainEqual(expect.stringContaining('exactly one'));
  });
});

describe('toScopeList', () => {
  it('splits a string on spaces and drops blanks', () => {
    expect(toScopeList(' api://a/Read  api://a/Write ')).toEqual(['api://a/Read', 'api://a/Write']);
    expect(toScopeList(['api://a/Read', ' '])).toEqual(['api://a/Read']);
  });
});
