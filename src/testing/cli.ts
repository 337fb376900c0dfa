#!/usr/bin/env node
// `npm run emulator` / `npx entra-emulator`: runs the Entra ID emulator for other processes (a sample app, a browser,
// other containers). Exit codes: 0 done, 1 the emulator failed (a taken port, an unreadable data dir), 2 a usage
// error (an unknown flag, a bad value, a seed file that does not hold a directory).
import { readFileSync } from 'node:fs';
import { parseCommandLine, USAGE, UsageError, type RunCommand } from './cli/arguments.js';
import { banner, writeOutDir } from './cli/out-dir.js';
import { isLoopbackHost } from './emulator/emulator-options.js';
import { startEntraEmulator } from './emulator/entra-emulator.js';
import { readSeedFile, exportSeed } from './emulator/seed-file.js';

function version(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${manifest.name} ${manifest.version}`;
}

/** The default directory as a seed file, the middle tier's private key included so its clients can sign. */
async function printSeed(): Promise<void> {
  const emulator = await startEntraEmulator({ port: 0 });
  try {
    const { certificate } = emulator.defaults.apps.middleTierApi;
    const x5t = emulator.defaults.apps.middleTierApi.app.certificates[0]!.x5t;
    const seed = exportSeed(emulator.directory, emulator.policies, new Map([[x5t, certificate.privateKeyPem]]));
    process.stdout.write(`${JSON.stringify(seed, null, 2)}\n`);
  } finally {
    await emulator.close();
  }
}

async function run(command: RunCommand): Promise<void> {
  if (!isLoopbackHost(command.host)) {
    console.error(`warning: listening on ${command.host}, beyond this machine. The emulator issues tokens to anyone who asks and its secrets are not secret: use it for tests only, on a network you control.`);
  }
  if (command.seedFile) {
    // Read here so that a missing or malformed file is a usage error (exit 2), not a failure to start.
    try {
      await readSeedFile(command.seedFile);
    } catch (error) {
      throw new UsageError((error as Error).message, { cause: error });
    }
  }
  const emulator = await startEntraEmulator({
    port: command.port,
    host: command.host,
    allowNonLoopbackHost: true,
    hostnames: command.hostnames,
    ...(command.dataDir ? { dataDir: command.dataDir } : {}),
    ...(command.seedFile ? { seedFile: command.seedFile } : {}),
  }).catch((error: unknown) => {
    // Option and seed problems are the caller's to fix: usage errors. Anything else (a taken port) is not.
    if (error instanceof TypeError && /invalid (options|seed)/.test(error.message)) throw new UsageError(error.message, { cause: error });
    throw error;
  });
  const files = await writeOutDir(emulator, command.outDir, command.seedFile);
  console.log(banner(emulator, files, command.seedFile));
  const stop = async (signal: string) => {
    console.log(`\n${signal}: stopping the emulator`);
    await emulator.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

async function main(): Promise<void> {
  const command = parseCommandLine(process.argv.slice(2));
  if (command.kind === 'help') return console.log(USAGE);
  if (command.kind === 'version') return console.log(version());
  if (command.kind === 'print-seed') return printSeed();
  return run(command);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof UsageError) {
    console.error(`${message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(message);
  process.exit(1);
});
