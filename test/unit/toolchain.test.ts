import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { functionsOf, readServerlessYml } from '../../scripts/serverless-yml.js';
import { tableDefinition } from '../../shared/store/table.js';
import { API_METHOD, API_PATHS } from '../../functions/gateway/routes.js';

const serverlessYml = () => readServerlessYml(ROOT);

describe('Toolchain', () => {
  it('resolves the serverless CLI to osls 4.3.1 (the offline-capable fork), never the downloader', () => {
    // Act
    const tree = JSON.parse(execFileSync('npm', ['ls', 'serverless', '--json', '--all'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    // Assess: every copy of "serverless" in the tree is osls 4.3.1
    const found: { version: string; resolved?: string }[] = [];
    const walk = (deps: Record<string, any> = {}) => {
      for (const [name, dep] of Object.entries(deps)) {
        if (name === 'serverless') found.push(dep);
        walk(dep.dependencies);
      }
    };
    walk(tree.dependencies);
    expect(found.length).toBeGreaterThan(0);
    for (const dep of found) expect(dep.version).toBe('4.3.1');
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/serverless/package.json'), 'utf8'));
    expect(manifest.name).toBe('osls');
  });

  it('declares the same DynamoDB table in serverless.yml as shared/store/table.ts', () => {
    // Prepare
    const declared = serverlessYml().resources.Resources.MetadataTable.Properties;
    const expected = tableDefinition('x');
    // Assess
    expect(declared.BillingMode).toBe(expected.BillingMode);
    expect(declared.KeySchema).toEqual(expected.KeySchema);
    expect(declared.AttributeDefinitions).toEqual(expected.AttributeDefinitions);
    expect(declared.GlobalSecondaryIndexes).toEqual(expected.GlobalSecondaryIndexes);
  });

  it('routes every function file that exists and passes no secret through serverless.yml', () => {
    // Prepare
    const doc = serverlessYml();
    // Assess
    for (const fn of Object.values(functionsOf(ROOT, { local: true }))) {
      const file = path.join(ROOT, String(fn.handler).replace(/\.handler$/, '.ts'));
      expect(() => readFileSync(file)).not.toThrow();
    }
    // The sealing key's location (a file path locally, a KMS key ARN in the cloud) is named, never a secret.
    const sealing = /QFDATA_SECRETS_KEY_FILE|QFDATA_SECRETS_KMS_KEY_ID|secretsKeyFile|secretsKmsKeyId|SecretsKey\b/g;
    const env = (JSON.stringify(doc.provider.environment) + JSON.stringify(doc.params)).replace(sealing, '');
    expect(env).not.toMatch(/SECRET|ACCESS_KEY/i);
    expect(Object.keys(doc.provider.environment)).toEqual(expect.arrayContaining(['QFDATA_SECRETS_KEY_FILE', 'QFDATA_SECRETS_KMS_KEY_ID']));
  });

  it('knows, for the catch-all route, exactly the paths serverless.yml routes', () => {
    // Prepare
    const routed = Object.values(functionsOf(ROOT))
      .flatMap((fn) => fn.events ?? [])
      .map((event) => (event as { httpApi?: { method?: string; path?: string } | string }).httpApi)
      .filter((route): route is { method: string; path: string } => typeof route === 'object' && route !== null);
    // Assess: every route but the V1 proxy is one of API_PATHS, with API_METHOD, and every API path is routed
    const exact = routed.filter((route) => !route.path.includes('{'));
    expect(exact.map((route) => route.path).sort()).toEqual([...API_PATHS].sort());
    for (const route of routed) expect(route.method).toBe(API_METHOD);
  });
});

describe('Toolchain: stages', () => {
  const printed = new Map<string, any>();
  /** What the Serverless CLI resolves for a stage (variables, params and file includes applied); printed once per stage. */
  function resolved(stage: string): any {
    if (!printed.has(stage)) {
      const out = execFileSync(process.execPath, [path.join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'print', '--stage', stage, '--format', 'json'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      printed.set(stage, JSON.parse(out.slice(out.indexOf('{'))));
    }
    return printed.get(stage);
  }

  /** The functions the Serverless CLI resolves for a stage, by name (its `functions` list merged). */
  function resolvedFunctionsOf(stage: string): Record<string, { handler: string; events?: unknown[]; iamRoleStatements?: unknown[] }> {
    const doc = resolved(stage);
    const parts: Record<string, any>[] = Array.isArray(doc.functions) ? doc.functions : [doc.functions];
    return Object.assign({}, ...parts);
  }

  function resolvedFunctions(stage: string): string[] {
    return Object.keys(resolvedFunctionsOf(stage)).sort();
  }

  it('serves the health and reset routes in the local stage only', () => {
    // Act
    const local = resolvedFunctions('local');
    const cloud = resolvedFunctions('prod');
    // Assess
    expect(local).toEqual(expect.arrayContaining(['health', 'reset', 'v1Create', 'v2Dataset']));
    expect(cloud).toEqual(expect.arrayContaining(['v1Create', 'v2Dataset']));
    expect(cloud).not.toContain('health');
    expect(cloud).not.toContain('reset');
  }, 60_000);

  it('routes every other method and path to the catch-all in the cloud ($default) and locally, with a reader role', () => {
    // Act
    const cloud = resolvedFunctionsOf('prod');
    const local = resolvedFunctionsOf('local');
    // Assess
    for (const functions of [cloud, local]) {
      expect(functions.gatewayNotFound).toMatchObject({ handler: 'functions/gateway/notFound.handler', events: [{ httpApi: '*' }] });
    }
    // It authenticates and refuses, as v1Unsupported does: the table read and the secrets key's decrypt, nothing more.
    expect(cloud.gatewayNotFound!.iamRoleStatements).toHaveLength(2);
    expect(cloud.gatewayNotFound!.iamRoleStatements).toEqual(cloud.v1Unsupported!.iamRoleStatements);
    const catchAlls = Object.entries(cloud).filter(([, fn]) => (fn.events ?? []).some((event) => (event as { httpApi?: unknown }).httpApi === '*'));
    expect(catchAlls.map(([name]) => name)).toEqual(['gatewayNotFound']);
  }, 60_000);
});

describe('Toolchain: code splitting and packaging', () => {
  it('builds each function with its chunks beside it, and serverless-esbuild zips every function with only its own', async () => {
    // Prepare: two functions of one folder, built as serverless-esbuild builds them (one entry per build, into the
    // same folder), with serverless.yml's options and chunk plugin.
    const { build } = await import('esbuild');
    const { mkdtemp, readdir, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { createRequire } = await import('node:module');
    const requireHere = createRequire(path.join(ROOT, 'package.json'));
    const esbuild = serverlessYml().custom.esbuild;
    const buildDir = await mkdtemp(path.join(tmpdir(), 'qfdata-split-'));
    try {
      const entries = ['functions/v1/info.ts', 'functions/v1/import.ts', 'functions/v1/importErrorDetail.ts'];
      for (const entry of entries) {
        await build({
          absWorkingDir: ROOT,
          entryPoints: [entry],
          outdir: path.join(buildDir, path.dirname(entry)),
          bundle: esbuild.bundle,
          minify: esbuild.minify,
          target: esbuild.target,
          platform: esbuild.platform,
          format: esbuild.format,
          mainFields: esbuild.mainFields,
          banner: esbuild.banner,
          splitting: esbuild.splitting,
          outExtension: { '.js': esbuild.outputFileExtension },
          plugins: requireHere(path.join(ROOT, esbuild.plugins)),
          logLevel: 'error',
        });
      }
      const files = (await readdir(buildDir, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => path.relative(buildDir, path.join(d.parentPath, d.name)));
      // Act: the files serverless-esbuild's pack step puts in each function's zip.
      const { filterFilesForZipPackage } = requireHere('serverless-esbuild/dist/pack.js');
      const bundles = entries.map((e) => e.replace(/\.ts$/, '.mjs'));
      const zipOf = (bundle: string) =>
        filterFilesForZipPackage({
          files: files.map((localPath) => ({ localPath, rootPath: path.join(buildDir, localPath) })),
          functionAlias: path.basename(bundle, '.mjs'),
          includedFiles: [],
          excludedFiles: ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'package.json', ...bundles.filter((b) => b !== bundle).map((b) => b.replace(/\.mjs$/, ''))],
          hasExternals: false,
          isGoogleProvider: false,
          depWhiteList: [],
        }).map((f: { localPath: string }) => f.localPath);
      // Assess: splitting is on, every chunk sits in its entry's folder, and each zip holds its bundle and its own
      // chunks only (import and importErrorDetail share a prefix: neither takes the other's).
      expect(esbuild.splitting).toBe(true);
      for (const bundle of bundles) {
        const own = files.filter((f) => f.startsWith(bundle.replace(/\.mjs$/, '.chunks/')));
        expect(own.length).toBeGreaterThan(0);
        expect(zipOf(bundle).sort()).toEqual([bundle, ...own].sort());
      }
      expect(files.filter((f) => !bundles.includes(f) && !bundles.some((b) => f.startsWith(b.replace(/\.mjs$/, '.chunks/'))))).toEqual([]);
      // And a bundle loads its chunks from there.
      const info = await import(path.join(buildDir, 'functions/v1/info.mjs'));
      expect(typeof info.handler).toBe('function');
    } finally {
      await rm(buildDir, { recursive: true, force: true });
    }
  }, 120_000);
});
