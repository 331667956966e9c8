import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../scripts/local.js';
import { functionsOf, readServerlessYml } from '../../scripts/serverless-yml.js';
import { tableDefinition } from '../../shared/store/table.js';

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
});

describe('Toolchain: stages', () => {
  /** The functions the Serverless CLI resolves for a stage (variables, params and file includes applied). */
  function resolvedFunctions(stage: string): string[] {
    const out = execFileSync(process.execPath, [path.join(ROOT, 'node_modules/serverless/bin/serverless.js'), 'print', '--stage', stage, '--format', 'json'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', SLS_NOTIFICATIONS_MODE: 'off' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const doc = JSON.parse(out.slice(out.indexOf('{')));
    const parts: Record<string, unknown>[] = Array.isArray(doc.functions) ? doc.functions : [doc.functions];
    return parts.flatMap((part) => Object.keys(part ?? {})).sort();
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
});
