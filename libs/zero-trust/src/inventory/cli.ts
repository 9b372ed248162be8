#!/usr/bin/env node
// `npx nestjs-zero-trust routes`: the route inventory of a built application (docs/route-inventory.md).
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { InventoryInputError, inventoryOf, loadRootModule } from './boot.js';
import { formatTable } from './format.js';

const USAGE = `Usage: nestjs-zero-trust routes --module <file.js> [--export <name>] [--json]

Boots the application module exported by <file.js> (without listening), prints every route of
every transport with its access policy, risk policy and mode, and closes it.

  --module <file>   a built JavaScript file exporting the root module
  --export <name>   the export: a module class, a DynamicModule, or a function returning one
                    (sync or async) (default: AppModule)
  --json            JSON in a stable order, to commit and diff in CI
  --help            this text`;

/** Exit codes: 0 printed, 1 the application could not be loaded or booted, 2 a usage mistake. */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        module: { type: 'string' },
        export: { type: 'string', default: 'AppModule' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usage(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals[0] !== 'routes' || positionals.length > 1)
    return usage(
      positionals.length === 0 ? 'missing command' : `unknown command "${positionals.join(' ')}"`,
    );
  if (values.module === undefined || values.module === '') return usage('--module is required');
  try {
    const root = await loadRootModule(values.module, values.export);
    const { inventory, errors } = await inventoryOf(root);
    for (const error of errors) process.stderr.write(`nestjs-zero-trust: ${error}\n`);
    const text = values.json ? JSON.stringify(inventory, null, 2) : formatTable(inventory);
    process.stdout.write(`${text}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof InventoryInputError)) throw error;
    process.stderr.write(`nestjs-zero-trust routes: ${error.message}\n`);
    return 1;
  }
}

function usage(problem: string): number {
  process.stderr.write(`nestjs-zero-trust: ${problem}\n\n${USAGE}\n`);
  return 2;
}

// Exit once the output is written: an application may leave handles (timers, clients) open.
main(process.argv.slice(2)).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`nestjs-zero-trust: unexpected failure\n`);
    console.error(error);
    process.exit(70);
  },
);
