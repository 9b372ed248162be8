// Writes the API report of every entry point of nestjs-zero-trust (libs/zero-trust/api/<entry>.api.md)
// with API Extractor, from the built declarations: a change of the public surface is then a visible
// diff. `npm run api` builds the library and regenerates the reports; `--check` (CI, after the
// build) regenerates nothing and exits 1 when a report differs from what the code exports.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig, ExtractorLogLevel } from '@microsoft/api-extractor';
import { format } from 'prettier';
import ts from 'typescript';

const lib = fileURLToPath(new URL('../libs/zero-trust/', import.meta.url));
const check = process.argv.includes('--check');
const packageJson = join(lib, 'package.json');
const { exports } = JSON.parse(readFileSync(packageJson, 'utf8'));
const temp = mkdtempSync(join(tmpdir(), 'zero-trust-api-'));
if (!check) mkdirSync(join(lib, 'api'), { recursive: true });

let failed = 0;
for (const [subpath, target] of Object.entries(exports)) {
  if (typeof target !== 'object' || !target.types) continue;
  const name = subpath === '.' ? 'index' : subpath.slice(2);
  const config = ExtractorConfig.prepare({
    packageJsonFullPath: packageJson,
    configObjectFullPath: undefined,
    configObject: {
      projectFolder: lib,
      mainEntryPointFilePath: join(lib, target.types),
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2023',
            lib: ['es2023'],
            types: ['node'],
            strict: true,
            skipLibCheck: true,
          },
          files: [join(lib, target.types)],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: `${name}.api.md`,
        reportFolder: join(lib, 'api'),
        reportTempFolder: temp,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The report lists what is exported, with its signature; TSDoc style is not its job
        // (the project uses tags such as @default and @publicApi that TSDoc does not define).
        compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          // A type used by an export but not exported itself (a guard's constructor parameters,
          // zod's inferred option types) shows by name in the signature; the warning would add
          // source line numbers, which change with every unrelated edit.
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-unresolved-link': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
          'ae-internal-missing-underscore': {
            logLevel: ExtractorLogLevel.None,
            addToApiReportFile: false,
          },
        },
        tsdocMessageReporting: {
          default: { logLevel: ExtractorLogLevel.None, addToApiReportFile: false },
        },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
  if (!result.succeeded) {
    failed++;
    // Show what changed: the report as the code now is was written to the temp folder.
    if (check && result.apiReportChanged)
      spawnSync(
        'git',
        ['diff', '--no-index', '--no-color', config.reportFilePath, config.reportTempFilePath],
        {
          stdio: 'inherit',
        },
      );
    console.error(
      result.apiReportChanged
        ? `api: the public surface of ${subpath} differs from api/${name}.api.md (run npm run api and commit the report)`
        : `api: ${subpath}: ${result.errorCount} errors, ${result.warningCount} warnings`,
    );
  } else if (result.apiReportChanged) {
    console.log(`api: updated api/${name}.api.md`);
  }
}
rmSync(temp, { recursive: true, force: true });

// Options are declared once, in zod schemas, so API Extractor shows `z.input<typeof schema>`
// and no option. Their expanded shape goes to api/options.api.md, so a new, renamed or
// retyped option is a visible diff too.
const entries = Object.entries(exports).filter(([, target]) => target?.types);
const files = entries.map(([, target]) => join(lib, target.types));
const program = ts.createProgram(files, {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  skipLibCheck: true,
  types: ['node'],
});
const checker = program.getTypeChecker();
const flags = /** @type {ts.TypeFormatFlags} */ (
  ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias
);
let shapes = '';
for (const [subpath, target] of entries) {
  const module = checker.getSymbolAtLocation(program.getSourceFile(join(lib, target.types)));
  for (const symbol of checker.getExportsOfModule(module)) {
    const declared =
      symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const alias = declared.declarations?.find(ts.isTypeAliasDeclaration);
    if (!alias || !/\bz\.(input|infer|output)</.test(alias.type.getText())) continue;
    // The checker prints a union's literals in the order it created them, which depends on
    // what it read first: sorted, the report is the same on every machine.
    const shape = checker
      .typeToString(checker.getDeclaredTypeOfSymbol(declared), undefined, flags)
      .replace(/"[^"]*"(?: \| "[^"]*")+/g, (union) => union.split(' | ').sort().join(' | '));
    shapes += `// nestjs-zero-trust${subpath === '.' ? '' : subpath.slice(1)}\ntype ${symbol.name} = ${shape};\n\n`;
  }
}
const optionsReport = join(lib, 'api', 'options.api.md');
const expected = `## Option types, expanded (generated by scripts/api.js)\n\n\`\`\`ts\n${await format(
  shapes,
  {
    parser: 'typescript',
    printWidth: 100,
    singleQuote: true,
  },
)}\`\`\`\n`;
const current = existsSync(optionsReport) ? readFileSync(optionsReport, 'utf8') : '';
if (current !== expected) {
  if (check) {
    failed++;
    const now = join(tmpdir(), `zero-trust-options-${process.pid}.api.md`);
    writeFileSync(now, expected);
    spawnSync('git', ['diff', '--no-index', '--no-color', optionsReport, now], {
      stdio: 'inherit',
    });
    rmSync(now, { force: true });
    console.error(
      'api: the option types differ from api/options.api.md (run npm run api and commit the report)',
    );
  } else {
    writeFileSync(optionsReport, expected);
    console.log('api: updated api/options.api.md');
  }
}
if (failed) process.exit(1);
