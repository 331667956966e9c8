#!/usr/bin/env node
// Runs a TypeScript entry point (`node scripts/run.mjs scripts/local.ts [args…]`): bundles it with esbuild into
// .esbuild/run/ and calls its exported `main(args)`. `npm start` and `npm run bench` go through here, so the launcher
// and the bench share the table definition, the store adapter and the signer with the functions instead of copying.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Development runs on Node 20; the deployed functions run on Lambda's nodejs22.x. Keep the AWS SDK's Node-version
// notice out of the console (serverless-offline inherits this environment).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/run.mjs <entry.ts> [args…]');
  process.exit(2);
}
const outfile = path.join(root, '.esbuild', 'run', `${path.basename(entry, '.ts')}.mjs`);
await build({
  entryPoints: [path.resolve(root, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const { main } = await import(pathToFileURL(outfile).href);
try {
  await main(args);
} catch (error) {
  console.error(`${path.basename(entry)}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
