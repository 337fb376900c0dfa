// The emulator CLI's command line: flags, environment defaults and their checks. A usage error is a UsageError, which
// the CLI turns into its message, the usage text and exit code 2 (the convention of getopt-based tools).
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const DEFAULT_PORT = 44321;

export const USAGE = `Usage: entra-emulator [options]

  --port N          TCP port (default $ENTRA_EMULATOR_PORT or ${DEFAULT_PORT}; 0 picks a free one)
  --host ADDRESS    interface to listen on (default $ENTRA_EMULATOR_HOST or 127.0.0.1); an address beyond
                    loopback (0.0.0.0 in a container) is served with a warning: the emulator is for tests
  --hostname NAME   a name clients reach it by (a docker-compose service name): in the TLS certificate and,
                    the first one, the authority host of issuers and metadata; repeatable
  --seed FILE       start from a seed file (JSON: tenants, users, guests, apps, policies) instead of the
                    default directory (default $ENTRA_EMULATOR_SEED)
  --print-seed      write the default directory as a seed file to stdout, and exit
  --data-dir DIR    keep the CA, TLS certificate and signing keys in DIR across runs, so clients trust the
                    CA once and tokens survive a restart (default $ENTRA_EMULATOR_DATA_DIR)
  --out-dir DIR     where to write ca.pem, directory.json and the middle tier's certificate for clients
                    (default $ENTRA_EMULATOR_OUT_DIR or .entra-emulator)
  --version         print the version and exit
  -h, --help        print this and exit`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface RunCommand {
  kind: 'run';
  port: number;
  host: string;
  hostnames: string[];
  seedFile: string | undefined;
  dataDir: string | undefined;
  outDir: string;
}

export type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'print-seed' } | RunCommand;

/** Reads the command line (and the environment's defaults); throws a UsageError for anything it cannot take. */
export function parseCommandLine(args: string[], env: NodeJS.ProcessEnv = process.env): CliCommand {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        hostname: { type: 'string', multiple: true },
        seed: { type: 'string' },
        'print-seed': { type: 'boolean' },
        'data-dir': { type: 'string' },
        'out-dir': { type: 'string' },
        version: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (values['print-seed']) return { kind: 'print-seed' };
  const portText = values.port ?? env.ENTRA_EMULATOR_PORT ?? String(DEFAULT_PORT);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535, got '${portText}'`);
  const nonEmpty = (flag: string, value: string | undefined): string | undefined => {
    if (value !== undefined && value.trim() === '') throw new UsageError(`${flag} needs a value`);
    return value;
  };
  const dataDir = nonEmpty('--data-dir', values['data-dir'] ?? env.ENTRA_EMULATOR_DATA_DIR);
  const seedFile = nonEmpty('--seed', values.seed ?? env.ENTRA_EMULATOR_SEED);
  return {
    kind: 'run',
    port,
    host: nonEmpty('--host', values.host ?? env.ENTRA_EMULATOR_HOST) ?? '127.0.0.1',
    hostnames: values.hostname ?? [],
    seedFile: seedFile === undefined ? undefined : resolve(seedFile),
    dataDir: dataDir === undefined ? undefined : resolve(dataDir),
    outDir: resolve(nonEmpty('--out-dir', values['out-dir'] ?? env.ENTRA_EMULATOR_OUT_DIR) ?? '.entra-emulator'),
  };
}
