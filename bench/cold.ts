/**
 * Cold starts, measured on the bundles that deploy: each function is built as serverless-esbuild builds it (the
 * options of serverless.yml's `custom.esbuild`, code splitting and its chunk plugin included, one entry per build
 * into `<dir>/<dir of the entry>/`), and zipped with serverless-esbuild's own zip function, as `npm run package`
 * zips it.
 *
 * - `coldRequire`: per function, the median `import()` time of its bundle in a fresh Node process, beside an empty
 *   bundle's; the bytes that import evaluates (the entry and the chunks it imports statically) and the zip's bytes.
 * - `firstRequest`: code splitting and lazy clients move work from the import to the first call, so the import
 *   alone flatters: for a few API functions, the import and then the first request (signed, against dynalite, with
 *   the local key-file sealer) in a fresh Node process, each timed, and the second request for comparison.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';
import { ROOT } from '../scripts/local.js';
import { functionsOf, readServerlessYml } from '../scripts/serverless-yml.js';
import { progress, round, summarize } from './stats.js';

const run = promisify(execFile);
const requireHere = createRequire(path.join(ROOT, 'package.json'));

/** The esbuild options of serverless.yml's `custom.esbuild` that reach esbuild (serverless-esbuild drops its own). */
function serverlessEsbuildOptions(): BuildOptions {
  const { bundle, minify, target, platform, format, banner, mainFields, splitting, plugins, outputFileExtension, sourcemap } = readServerlessYml(ROOT).custom.esbuild;
  return {
    bundle,
    minify,
    target,
    platform,
    format,
    banner,
    mainFields,
    sourcemap,
    ...(splitting ? { splitting } : {}),
    ...(outputFileExtension && outputFileExtension !== '.js' ? { outExtension: { '.js': outputFileExtension } } : {}),
    ...(plugins ? { plugins: requireHere(path.join(ROOT, plugins)) as Plugin[] } : {}),
  };
}

interface Built {
  /** The entry's bundle (what the handler path names). */
  bundle: string;
  /** Every file of the function's build, relative to its build folder (what its zip holds). */
  files: string[];
  buildDir: string;
  bundleBytes: number;
  /** The bundle and the chunks it imports statically: what `import()` evaluates. */
  staticBytes: number;
}

/** Builds `entry` (relative to the repository) as serverless-esbuild does, into `buildDir`. */
async function buildFunction(entry: string, buildDir: string, options: BuildOptions): Promise<Built> {
  // An entry outside the repository (the empty baseline) is built straight into its folder.
  const outdir = entry.startsWith('..') ? buildDir : path.join(buildDir, path.dirname(entry));
  const result = await build({ ...options, absWorkingDir: ROOT, entryPoints: [entry], outdir, metafile: true, logLevel: 'error' });
  const outputs = (result.metafile as Metafile).outputs;
  const absolute = (output: string) => path.resolve(ROOT, output);
  const main = Object.keys(outputs).find((o) => outputs[o]!.entryPoint === entry);
  if (!main) throw new Error(`no bundle for ${entry}`);
  const reached = new Set<string>();
  for (const pending = [main]; pending.length > 0; ) {
    const output = pending.pop()!;
    if (reached.has(output)) continue;
    reached.add(output);
    for (const i of outputs[output]!.imports) if (i.kind === 'import-statement' && !i.external) pending.push(i.path);
  }
  return {
    bundle: absolute(main),
    files: Object.keys(outputs).map((o) => path.relative(buildDir, absolute(o))),
    buildDir,
    bundleBytes: outputs[main]!.bytes,
    staticBytes: [...reached].reduce((sum, o) => sum + outputs[o]!.bytes, 0),
  };
}

/** Zips a function's build as `sls package` does (serverless-esbuild's zip, archiver); answers the zip's bytes. */
async function zipBytes(built: Built, zipPath: string): Promise<number> {
  const { zip } = requireHere('serverless-esbuild/dist/utils.js') as { zip: (zipPath: string, files: { localPath: string; rootPath: string }[], native?: boolean) => Promise<void> };
  await zip(zipPath, built.files.map((localPath) => ({ localPath, rootPath: path.join(built.buildDir, localPath) })), false);
  return (await stat(zipPath)).size;
}

const childEnv = (extra: Record<string, string> = {}) => ({ ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOG_LEVEL: 'silent', ...extra });

/** Which functions answer HTTP (the API functions the budgets are for). */
function apiFunctions(): Set<string> {
  const functions = functionsOf(ROOT);
  return new Set(Object.keys(functions).filter((name) => (functions[name]!.events ?? []).some((e) => typeof e === 'object' && e !== null && 'httpApi' in e)));
}

export interface ColdBudget {
  importOverEmptyMs: number;
  zipBytes: number;
}

export async function benchColdRequire(budget: ColdBudget = { importOverEmptyMs: 40, zipBytes: 250 * 1024 }) {
  progress('cold require of each bundle (built and zipped as sls package does)');
  const options = serverlessEsbuildOptions();
  const functions = functionsOf(ROOT);
  const api = apiFunctions();
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-cold-'));
  try {
    const empty = path.join(dir, 'empty.ts');
    await writeFile(empty, 'export const handler = async () => ({ statusCode: 200 });\n');
    const entries: Record<string, string> = { empty: path.relative(ROOT, empty) };
    for (const [name, fn] of Object.entries(functions)) entries[name] = fn.handler.replace(/\.handler$/, '.ts');
    const built: Record<string, Built & { zipBytes: number }> = {};
    for (const [name, entry] of Object.entries(entries)) {
      const b = await buildFunction(entry, path.join(dir, name), options);
      built[name] = { ...b, zipBytes: await zipBytes(b, path.join(dir, `${name}.zip`)) };
    }
    // Interleaved rounds: the machine's noise falls on every function alike.
    const times: Record<string, number[]> = {};
    for (let round = 0; round < 15; round++) {
      for (const [name, b] of Object.entries(built)) {
        const script = `const t=performance.now();await import(${JSON.stringify(b.bundle)});process.stdout.write(String(performance.now()-t));`;
        const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: childEnv() });
        if (r.status !== 0) throw new Error(`importing ${name} failed: ${r.stderr}`);
        (times[name] ??= []).push(Number(r.stdout));
      }
    }
    const emptyMs = summarize(times.empty!).p50;
    const out: Record<string, unknown> = {};
    let worstImport = 0;
    let worstZip = 0;
    for (const [name, b] of Object.entries(built)) {
      const importMsMedian = summarize(times[name]!).p50;
      if (name === 'empty') {
        out[name] = { bundleBytes: b.bundleBytes, importMsMedian };
        continue;
      }
      const overEmptyMs = round(importMsMedian - emptyMs);
      if (api.has(name)) {
        worstImport = Math.max(worstImport, overEmptyMs);
        worstZip = Math.max(worstZip, b.zipBytes);
      }
      out[name] = { api: api.has(name), bundleBytes: b.bundleBytes, staticBytes: b.staticBytes, zipBytes: b.zipBytes, importMsMedian, overEmptyMs };
    }
    out.apiFunctions = {
      worstImportOverEmptyMs: worstImport,
      worstZipBytes: worstZip,
      budget,
      withinBudget: worstImport <= budget.importOverEmptyMs && worstZip <= budget.zipBytes,
    };
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface FirstRequestCase {
  fn: string;
  label: string;
  /** Two events: the first request and the second. */
  events: (i: number) => unknown[];
  expect: (statusCode: number, body: string) => boolean;
}

/**
 * Import, first request and second request of a few API functions, each in a fresh Node process against the
 * bench's dynalite (`table` at `endpoint`).
 */
export async function benchFirstRequest(table: string, endpoint: string) {
  progress('import + first request of API functions');
  const { signedEvent } = await import('../test/support/events.js');
  const { AccessKeyService, FileKeySealer, ensureKeyFile } = await import('../shared/keys/index.js');
  const { DynamoMetadataStore } = await import('../shared/store/index.js');
  const dir = await mkdtemp(path.join(tmpdir(), 'qfdata-bench-first-'));
  try {
    const dataDir = path.join(dir, 'data');
    await mkdir(dataDir, { recursive: true });
    const keyFile = ensureKeyFile(path.join(dataDir, 'secrets.key'));
    const keys = new AccessKeyService({ store: new DynamoMetadataStore({ tableName: table, region: 'us-east-1', endpoint }), sealer: FileKeySealer.fromFile(keyFile) });
    const issued = await keys.issueForOperator({ account: 'bench-cold', policy: 'QianfanFullControlAccessPolicy' });
    const credentials = { accessKeyId: issued.record.accessKeyId, secretAccessKey: issued.secretAccessKey };
    const signed = (p: string, body: unknown, query?: string) => signedEvent({ path: p, body: JSON.stringify(body), ...(query ? { query } : {}), ...credentials });
    const describe = () => signed('/v2/dataset', { maxKeys: 10 }, 'Action=DescribeDatasets');
    const create = (name: string) => signed('/wenxinworkshop/dataset/create', { name, versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' });
    const cases: FirstRequestCase[] = [
      { fn: 'v2Dataset', label: 'v2Dataset DescribeDatasets', events: () => [describe(), describe()], expect: (s) => s === 200 },
      { fn: 'v1Create', label: 'v1Create create', events: (i) => [create(`bench_first_${i}_a`), create(`bench_first_${i}_b`)], expect: (s, body) => s === 200 && body.includes('"success":true') },
      { fn: 'gatewayNotFound', label: 'gatewayNotFound (signed, 404)', events: () => [signed('/nowhere', {}), signed('/nowhere', {})], expect: (s) => s === 404 },
      { fn: 'v2Dataset', label: 'v2Dataset unsigned (InvalidHTTPAuthHeader)', events: () => [signedEvent({ path: '/v2/dataset', query: 'Action=DescribeDatasets', authorization: null }), signedEvent({ path: '/v2/dataset', query: 'Action=DescribeDatasets', authorization: null })], expect: (s) => s === 400 },
    ];
    const options = serverlessEsbuildOptions();
    const functions = functionsOf(ROOT);
    const bundles: Record<string, string> = {};
    for (const c of cases) bundles[c.fn] ??= (await buildFunction(functions[c.fn]!.handler.replace(/\.handler$/, '.ts'), path.join(dir, 'build', c.fn), options)).bundle;
    const env = childEnv({ QFDATA_DATA_DIR: dataDir, QFDATA_SECRETS_KEY_FILE: keyFile, QFDATA_DYNAMODB_ENDPOINT: endpoint, QFDATA_TABLE: table });
    const samples: Record<string, { importMs: number[]; firstMs: number[]; importPlusFirstMs: number[]; secondMs: number[] }> = {};
    for (let i = 0; i < 9; i++) {
      for (const c of cases) {
        const eventsFile = path.join(dir, 'events.json');
        await writeFile(eventsFile, JSON.stringify(c.events(i)));
        const script = [
          `import { readFileSync } from 'node:fs';`,
          `const events = JSON.parse(readFileSync(${JSON.stringify(eventsFile)}, 'utf8'));`,
          `const context = { awsRequestId: 'bench', functionName: ${JSON.stringify(c.fn)}, callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 29000 };`,
          `const t0 = performance.now(); const m = await import(${JSON.stringify(bundles[c.fn])}); const t1 = performance.now();`,
          `const r1 = await m.handler(events[0], context); const t2 = performance.now();`,
          `const r2 = await m.handler(events[1], context); const t3 = performance.now();`,
          `process.stdout.write(JSON.stringify({ times: [t1 - t0, t2 - t1, t3 - t2], answers: [[r1.statusCode, r1.body], [r2.statusCode, r2.body]] }));`,
          `process.exit(0);`,
        ].join('\n');
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env, maxBuffer: 1 << 20 });
        const { times, answers } = JSON.parse(stdout) as { times: [number, number, number]; answers: [number, string][] };
        for (const [status, body] of answers) if (!c.expect(status, body)) throw new Error(`${c.label} answered ${status} ${body}`);
        const s = (samples[c.label] ??= { importMs: [], firstMs: [], importPlusFirstMs: [], secondMs: [] });
        s.importMs.push(times[0]);
        s.firstMs.push(times[1]);
        s.importPlusFirstMs.push(times[0] + times[1]);
        s.secondMs.push(times[2]);
      }
    }
    const out: Record<string, unknown> = {
      method: 'fresh Node process per sample (9 interleaved rounds, medians): import the bundle, then the first and the second request through its handler against dynalite',
    };
    for (const [label, s] of Object.entries(samples)) {
      out[label] = {
        importMs: summarize(s.importMs).p50,
        firstRequestMs: summarize(s.firstMs).p50,
        importPlusFirstRequestMs: summarize(s.importPlusFirstMs).p50,
        secondRequestMs: summarize(s.secondMs).p50,
      };
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
