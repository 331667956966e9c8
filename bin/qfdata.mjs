#!/usr/bin/env node
// The `qfdata` executable.
// - Installed (`npm pack`, then `npm install` of the tarball): runs bin/dist/qfdata.mjs, the bundle `npm pack` built
//   ahead of time (bin/build.mjs, the `prepack` script): no TypeScript, no esbuild, no devDependency at run time.
// - In the checkout (the sources beside it): bundles bin/qfdata.ts with esbuild into .esbuild/cli/qfdata.mjs (as
//   scripts/run.mjs does for its entries; rebuilt only when one of the bundle's sources is newer than it) and runs
//   its `main(argv)`, so an edit shows at the next run.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Development runs on Node 20: keep the AWS SDK's Node-version notice out of the output (as scripts/run.mjs).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

if (!existsSync(path.join(here, 'qfdata.ts'))) {
  // The installed package: the prebuilt bundle runs the CLI when imported.
  await import(pathToFileURL(path.join(here, 'dist', 'qfdata.mjs')).href);
} else {
  const outfile = path.join(root, '.esbuild', 'cli', 'qfdata.mjs');
  // The bundle's sources (paths relative to the repository), written beside it at each build.
  const inputsFile = `${outfile}.inputs.json`;

  const stale = () => {
    try {
      const built = statSync(outfile).mtimeMs;
      const inputs = JSON.parse(readFileSync(inputsFile, 'utf8'));
      return inputs.some((input) => {
        const file = path.join(root, input);
        return !existsSync(file) || statSync(file).mtimeMs > built;
      });
    } catch {
      return true; // no bundle or no inputs list yet
    }
  };

  if (stale()) {
    const { build } = await import('esbuild');
    const result = await build({
      absWorkingDir: root,
      entryPoints: ['bin/qfdata.ts'],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
      metafile: true,
    });
    writeFileSync(inputsFile, JSON.stringify(Object.keys(result.metafile.inputs)));
  }

  const { main } = await import(pathToFileURL(outfile).href);
  process.exitCode = await main(process.argv.slice(2));
}
