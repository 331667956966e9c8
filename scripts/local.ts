/**
 * The local stack: dynalite (persisted under the data directory), the table, the platform bucket, the root access
 * key, serverless-offline serving the functions on an internal port, and the gateway in front of it on the API port
 * (`scripts/gateway.ts`: the envelope for oversized bodies and for a serverless-offline that does not answer).
 * `npm start` runs it (through `scripts/run.mjs`); the integration tests and the bench start their own copies on
 * free ports and data directories.
 *
 * Everything it starts stops with it (`scripts/processes.ts`): dynalite, the download server and the gateway live
 * in this process; serverless-offline (and the esbuild service it starts) in a process group that kills itself when
 * this process is gone, however it ended. `npm start` also stops when npm or its shell is gone.
 *
 * Credentials never travel through serverless.yml: the root key is written into the local store, its secret sealed
 * under the local secrets key file (created here on first start, mode 0600), where the functions look keys up like
 * any other. The root key is written again at every start, enabled, with the full-control policy.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { AccessKeyService, FileKeySealer, ensureKeyFile, secretsKeyFile } from '../shared/keys/index.js';
import { createObjectStore } from '../shared/objects/index.js';
import { DynamoMetadataStore, tableDefinition } from '../shared/store/index.js';
import { startDownloadServer } from './download-server.js';
import { startGateway, type Gateway } from './gateway.js';
import { spawnTiedNode, stopGroup, watchAncestors } from './processes.js';

/** The project root: the nearest directory above this file (bundled or not) that holds serverless.yml. */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'serverless.yml'))) return d;
    if (path.dirname(d) === d) throw new Error(`serverless.yml not found above ${dir}`);
  }
}

/** Local defaults, printed at start-up; override with QIANFAN_ACCESS_KEY / QIANFAN_SECRET_KEY. */
export const LOCAL_ACCESS_KEY = 'qfdata-local-ak';
export const LOCAL_SECRET_KEY = 'qfdata-local-sk';
export const ROOT_ACCOUNT = 'root';

export interface StackOptions {
  /** Data directory; everything persists below it. */
  dataDir: string;
  /** API port (the gateway's). 0 picks a free port. */
  port?: number;
  /** serverless-offline's own HTTP port behind the gateway (its httpPort). 0 picks a free port. */
  offlinePort?: number;
  /** serverless-offline's Lambda invoke port. 0 picks a free port. */
  lambdaPort?: number;
  dynamoPort?: number;
  downloadPort?: number;
  accessKeyId?: string;
  secretAccessKey?: string;
  tableName?: string;
  platformBucket?: string;
  /** Extra environment for serverless-offline (its handlers see only what serverless.yml passes). */
  env?: Record<string, string>;
  /** Echo serverless-offline's output. */
  verbose?: boolean;
  /** Where serverless-esbuild builds the functions, relative to the project (default `.esbuild`). */
  buildDir?: string;
  /** Called if serverless-offline exits while the stack runs (not when `stop` stops it). */
  onOfflineExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface Dynamo {
  endpoint: string;
  close(): Promise<void>;
}

export interface Stack {
  /** The API: the gateway in front of serverless-offline. */
  url: string;
  /** serverless-offline's own HTTP endpoint behind the gateway (for measurements; clients use `url`). */
  offlineUrl: string;
  lambdaUrl: string;
  downloadUrl: string;
  dynamoEndpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  tableName: string;
  dataDir: string;
  /** Stops everything the stack started; idempotent. */
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server: Server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Starts dynalite on 127.0.0.1; persisted under `dir` when given, in memory otherwise. */
export async function startDynamo(options: { dir?: string; port?: number }): Promise<Dynamo> {
  if (options.dir) await mkdir(options.dir, { recursive: true });
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dir ? { path: options.dir } : {}) });
  const port = options.port || (await freePort());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new Error(`port ${port} is in use: is another qfdata running? Set QFDATA_DYNAMO_PORT to use another port.`)
          : error,
      ),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Creates the table if it does not exist yet, and waits until it is ACTIVE (writes to a CREATING table fail). */
export async function ensureTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const status = async () => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table?.TableStatus;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  try {
    if ((await status()) === undefined) await client.send(new CreateTableCommand(tableDefinition(tableName)));
    for (let waited = 0; (await status()) !== 'ACTIVE'; waited += 50) {
      if (waited > 30_000) throw new Error(`table ${tableName} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    client.destroy();
  }
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serverless-offline exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      await fetch(url, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(`serverless-offline did not answer at ${url} within ${timeoutMs} ms`);
}

/** Starts serverless-offline in a process group tied to this process (see `scripts/processes.ts`). */
function startOffline(options: { httpPort: number; lambdaPort: number; verbose: boolean; env: NodeJS.ProcessEnv }): ChildProcess {
  const cli = path.join(ROOT, 'node_modules/serverless/bin/serverless.js');
  return spawnTiedNode(ROOT, [cli, 'offline', 'start', '--stage', 'local', '--httpPort', String(options.httpPort), '--lambdaPort', String(options.lambdaPort)], {
    cwd: ROOT,
    stdout: options.verbose ? 'inherit' : 'pipe',
    env: options.env,
  });
}

/** Starts the whole local stack and resolves once the API answers. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = path.resolve(options.dataDir);
  const tableName = options.tableName ?? 'qfdata';
  const accessKeyId = options.accessKeyId ?? LOCAL_ACCESS_KEY;
  const secretAccessKey = options.secretAccessKey ?? LOCAL_SECRET_KEY;
  const platformBucket = options.platformBucket ?? 'qfdata';
  const offlinePort = options.offlinePort || (await freePort());
  const lambdaPort = options.lambdaPort || (await freePort());

  // The API port first: a port in use fails the start before anything else is built.
  const gateway: Gateway = await startGateway({ port: options.port || 0, upstreamPort: offlinePort });
  let dynamo: Dynamo | undefined;
  let child: ChildProcess | undefined;
  let downloads: Awaited<ReturnType<typeof startDownloadServer>> | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      await gateway.close();
      if (child) await stopGroup(child);
      await downloads?.close();
      await dynamo?.close();
    })());
  try {
    dynamo = await startDynamo({ dir: path.join(dataDir, 'dynamo'), ...(options.dynamoPort ? { port: options.dynamoPort } : {}) });
    await ensureTable(dynamo.endpoint, tableName);
    const store = new DynamoMetadataStore({ tableName, region: 'us-east-1', endpoint: dynamo.endpoint });
    const keyFile = ensureKeyFile(path.resolve(secretsKeyFile({ QFDATA_SECRETS_KEY_FILE: options.env?.QFDATA_SECRETS_KEY_FILE ?? process.env.QFDATA_SECRETS_KEY_FILE, QFDATA_DATA_DIR: dataDir })));
    const keys = new AccessKeyService({ store, sealer: FileKeySealer.fromFile(keyFile) });
    await keys.issueForOperator({ account: ROOT_ACCOUNT, accessKeyId, secretAccessKey, description: 'local root key (written at every start)' });
    const objects = createObjectStore({ kind: 'fs', dataDir });
    await objects.createBucket(platformBucket);
    downloads = await startDownloadServer({ port: options.downloadPort || 0, objects, keys, store });

    child = startOffline({
      httpPort: offlinePort,
      lambdaPort,
      verbose: options.verbose ?? false,
      env: {
        ...process.env,
        SLS_TELEMETRY_DISABLED: '1',
        SLS_NOTIFICATIONS_MODE: 'off',
        QFDATA_DYNAMODB_ENDPOINT: dynamo.endpoint,
        QFDATA_DATA_DIR: dataDir,
        QFDATA_SECRETS_KEY_FILE: keyFile,
        QFDATA_TABLE: tableName,
        QFDATA_PLATFORM_BUCKET: platformBucket,
        QFDATA_ESBUILD_DIR: options.buildDir ?? '.esbuild',
        QFDATA_LOCAL_LAMBDA_ENDPOINT: `http://127.0.0.1:${lambdaPort}`,
        QFDATA_DOWNLOAD_BASE_URL: downloads.url,
        ...options.env,
      },
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const offlineUrl = `http://127.0.0.1:${offlinePort}`;
    await waitForHttp(offlineUrl, child, 120_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output}`);
    });
    child.once('exit', (code, signal) => {
      if (!stopping) options.onOfflineExit?.(code, signal);
    });
    return {
      url: gateway.url,
      offlineUrl,
      lambdaUrl: `http://127.0.0.1:${lambdaPort}`,
      downloadUrl: downloads.url,
      dynamoEndpoint: dynamo.endpoint,
      accessKeyId,
      secretAccessKey,
      tableName,
      dataDir,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** How long `npm start` gives its stack to stop before it exits anyway (serverless-offline's group dies with it). */
const STOP_DEADLINE_MS = 15_000;

/**
 * `npm start`. Stops everything on SIGINT, SIGTERM or SIGHUP, when npm (or whatever started it) is gone, and when
 * serverless-offline exits on its own; a signal during start-up exits at once (the pipe takes serverless-offline).
 */
export async function main(): Promise<void> {
  const env = process.env;
  const dataDir = env.QFDATA_DATA_DIR || './.data';
  const port = Number(env.QFDATA_PORT || 8866);
  const usingDefaults = !env.QIANFAN_ACCESS_KEY || !env.QIANFAN_SECRET_KEY;
  let stack: Stack | undefined;
  let stopping = false;
  const shutdown = async (why: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`\nstopping qfdata (${why})…\n`);
    setTimeout(() => process.exit(exitCode || 1), STOP_DEADLINE_MS).unref();
    await stack?.stop();
    process.exit(exitCode);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal, 0));
  watchAncestors((reason) => void shutdown(reason, 1));
  stack = await startStack({
    dataDir,
    port,
    lambdaPort: Number(env.QFDATA_LAMBDA_PORT || port + 1),
    dynamoPort: Number(env.QFDATA_DYNAMO_PORT || port + 2),
    downloadPort: Number(env.QFDATA_DOWNLOAD_PORT || port + 3),
    offlinePort: Number(env.QFDATA_OFFLINE_PORT || port + 4),
    accessKeyId: env.QIANFAN_ACCESS_KEY || LOCAL_ACCESS_KEY,
    secretAccessKey: env.QIANFAN_SECRET_KEY || LOCAL_SECRET_KEY,
    verbose: env.QFDATA_VERBOSE === '1',
    ...(env.QFDATA_ESBUILD_DIR ? { buildDir: env.QFDATA_ESBUILD_DIR } : {}),
    onOfflineExit: (code, signal) => void shutdown(`serverless-offline exited: ${code ?? signal}`, 1),
  });
  const lines = [
    '',
    `qfdata is running at ${stack.url}  (data in ${stack.dataDir}; downloads at ${stack.downloadUrl})`,
    '',
    'Point the official SDKs at it:',
    `  export QIANFAN_CONSOLE_API_BASE_URL=${stack.url}   # JS, Python, Java`,
    `  export QIANFAN_CONSOLE_BASE_URL=${stack.url}       # Go`,
    `  export QIANFAN_ACCESS_KEY=${stack.accessKeyId}`,
    usingDefaults ? `  export QIANFAN_SECRET_KEY=${stack.secretAccessKey}   # local default credentials` : '  (secret key: the QIANFAN_SECRET_KEY you set)',
    '',
    'Ctrl-C stops everything.',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
