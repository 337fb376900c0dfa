import type { EntraEmulator } from '../../../src/testing/index.js';

/** Which of the emulator's requests a gate holds back. */
export type GatedEndpoint = 'jwks' | 'discovery';

const PATTERNS: Record<GatedEndpoint, RegExp> = {
  jwks: /\/discovery\/(v2\.0\/)?keys$/,
  discovery: /\/\.well-known\/openid-configuration$/,
};

/**
 * The emulator's `fetch`, with a gate the test opens and closes: while closed, requests to the gated endpoint wait
 * (as when Entra hangs), so a test can show that something did not wait for them, without measuring time.
 */
export class GatedFetch {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;
  /** Requests that reached the gate while it was closed. */
  held = 0;

  constructor(
    private readonly entra: EntraEmulator,
    private readonly endpoint: GatedEndpoint,
  ) {}

  readonly fetch: typeof fetch = async (input, init) => {
    const url = new URL(String(input instanceof Request ? input.url : input));
    if (this.gate && PATTERNS[this.endpoint].test(url.pathname)) {
      this.held += 1;
      await this.gate;
    }
    return this.entra.fetch(input, init);
  };

  close(): void {
    this.gate ??= new Promise((resolve) => (this.open = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
    this.open = undefined;
  }
}
