// esbuild plugins for serverless-esbuild (serverless.yml `custom.esbuild.plugins`), also used by the bench's
// coldRequire (bench/index.ts) so that it measures the bundles that deploy.
//
// Code splitting (`splitting: true`) keeps what a function loads with `import()` (the S3 client, the readers of
// each file type, a router's actions) out of the module its cold start evaluates. serverless-esbuild builds each
// function's entry on its own into `<build>/<dir of the entry>/`, and zips, for each function, every file of the
// build folder except the other functions' bundles and the files named after them (`<bundle>.*`). So the chunks of
// the entry `functions/v1/create.ts` are written under `functions/v1/create.chunks/`: they go into the v1Create zip
// only, and into no other function's, and `create.mjs` finds them there at run time (locally and on Lambda alike).
'use strict';
const path = require('node:path');

/** @type {import('esbuild').Plugin} */
const chunksBesideTheirEntry = {
  name: 'qfdata-chunks-beside-their-entry',
  setup(build) {
    const options = build.initialOptions;
    if (!options.splitting) return;
    const entries = Array.isArray(options.entryPoints) ? options.entryPoints : Object.values(options.entryPoints ?? {});
    if (entries.length !== 1) throw new Error('qfdata-chunks-beside-their-entry: one entry point per build (as serverless-esbuild builds)');
    const entry = typeof entries[0] === 'string' ? entries[0] : entries[0].in;
    options.chunkNames = `${path.basename(entry, path.extname(entry))}.chunks/[name]-[hash]`;
  },
};

module.exports = [chunksBesideTheirEntry];
