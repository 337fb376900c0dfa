/** A tier's port was taken: says which port, and which variable moves the tier elsewhere. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly variable: string,
  ) {
    super(`port ${port} is in use; set ${variable}`);
    this.name = 'PortInUseError';
  }
}

/** Listens on loopback; an app that cannot (a taken port) is closed, so nothing keeps the process alive. */
export async function listenOrClose<App extends { listen(port: number, host: string): Promise<unknown>; close(): Promise<void> }>(app: App, port: number): Promise<App> {
  try {
    await app.listen(port, '127.0.0.1');
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/**
 * Runs `start` (which listens on `port`) and turns a taken port into a `PortInUseError` naming `variable`, so `npm
 * start` answers with one line instead of the stack trace of whichever library happened to call `listen`.
 */
export async function listeningOn<T>(variable: string, port: number, start: () => Promise<T>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'EADDRINUSE') throw new PortInUseError(port, variable);
    throw error;
  }
}
