#!/usr/bin/env node
// Builds the installable CLI: bin/qfdata.ts and everything it imports (commander, zod, string-width, the typed
// client, the object port, the S3 client for `cp` against a deployment…) bundled by esbuild into one file,
// bin/dist/qfdata.mjs, so the installed package runs with no devDependency and no TypeScript at run time.
// `npm pack` runs it (the `prepack` script); bin/qfdata.mjs runs the bundle when the sources are not beside it.
import { build } from 'esbuild';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'bin', 'dist', 'qfdata.mjs');

rmSync(path.dirname(outfile), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  stdin: {
    // The entry runs the CLI; bin/qfdata.ts itself only exports it (the tests call its `main`).
    contents: "import { main } from './qfdata.ts';\nprocess.exitCode = await main(process.argv.slice(2));\n",
    resolveDir: path.join(root, 'bin'),
    sourcefile: 'bin/entry.ts',
    loader: 'ts',
  },
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  logLevel: 'warning',
  // CommonJS dependencies bundled into ESM still call require() for Node's built-ins.
  banner: {
    js: [
      '#!/usr/bin/env node',
      "import { createRequire as __qfdataCreateRequire } from 'node:module';",
      'const require = __qfdataCreateRequire(import.meta.url);',
      // Development and CI run Node 20: keep the AWS SDK's Node-version notice out of the CLI's output.
      "process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';",
    ].join('\n'),
  },
});
process.stdout.write(`built ${path.relative(root, outfile)} (${Math.round(statSync(outfile).size / 1024)} KB)\n`);
