// passport-azure-ad ships no types (and is archived); the benchmark needs only its BearerStrategy constructor.
declare module 'passport-azure-ad' {
  export class BearerStrategy {
    constructor(options: Record<string, unknown>, verify: (...args: unknown[]) => void);
    name: string;
    authenticate(...args: unknown[]): void;
  }
}
