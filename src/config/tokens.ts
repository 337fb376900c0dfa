/** DI token of the validated, normalised module options (`ResolvedOboOptions`). */
export const OBO_RESOLVED_OPTIONS = Symbol('OBO_RESOLVED_OPTIONS');
