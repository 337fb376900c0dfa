import { ConsoleLogger } from '@nestjs/common';

/**
 * The tiers' Nest logger: errors and warnings only, except Nest's own "listen EADDRINUSE" line. A taken port is
 * reported once by `npm start`, with the variable that moves the tier (`PortInUseError`); Nest's line would only
 * repeat it as an error.
 */
class SampleLogger extends ConsoleLogger {
  override error(message: unknown, ...rest: unknown[]): void {
    if (typeof message === 'string' && message.includes('EADDRINUSE')) return;
    super.error(message, ...rest);
  }
}

export function sampleLogger(): ConsoleLogger {
  return new SampleLogger({ logLevels: ['error', 'warn'] });
}
