/**
 * The local stack: dynalite (persisted under the data directory), the table, the platform bucket, the root access
 * key, the functions, and the gateway in front of them on the API port (`scripts/gateway.ts`: the envelope for
 * oversized bodies and for functions that do not answer). `npm start` runs it (through `scripts/run.mjs`); the
 * integration tests and the bench start their own copies on free ports and data directories.
 *
 * Who hosts the functions (`QFDATA_HOST` for `npm start`, `host` for `startStack`):
 *
 * - `inprocess` (the default of `npm start`): `scripts/host.ts`, in this process. The handler modules serverless.yml
 *   names, bundled once at start by esbuild (whose service then stops), each function in module graphs of its own
 *   with the environment serverless.yml gives it; HTTP requests routed by serverless.yml's `httpApi` events into
 *   API Gateway's 2.0 events; background work (the import worker, the scheduler on its rate, event subscribers)
 *   invoked in-process, the long-running workers (import worker, scheduler) in worker threads of their own; the
 *   Lambda Invoke API served on the Lambda port. About 15 times lighter and 3 times faster than serverless-offline
 *   (`npm run bench -- local`); `npm start` caps its heap's growth (`HEAP_GROWING_PERCENT`), so its RSS levels off
 *   soon under load.
 * - `offline` (`QFDATA_HOST=offline npm start`; the default of `startStack`, so of the integration tests):
 *   serverless-offline on an internal port (`QFDATA_OFFLINE_PORT`), with serverless-esbuild's build, its Lambda
 *   Invoke API on the Lambda port, the gateway streaming to it.
 *
 * Everything it starts stops with it (`scripts/processes.ts`): dynalite, the download server, the gateway and the
 * in-process host live in this process; serverless-offline (and the esbuild service it starts) in a process group
 * that kills itself when this process is gone, however it ended. `npm start` also stops when npm or its shell is gone.
 *
 * The download server's port also serves the BOS-compatible object endpoint (`scripts/bos-endpoint.ts`), so BOS
 * clients (`@baiducloud/sdk`'s BosClient, bce-python-sdk, `qfdata cp`) stage data in the twin's buckets; the gateway
 * tells clients where it is (`GET /_qfdata/endpoints`). `npm start` prints one line per request, API and objects,
 * unless `QFDATA_QUIET=1`.
 *
 * Events: the functions append what they publish to the event log under the data directory
 * (`<data dir>/events/events.jsonl`, `shared/events`); the dispatcher here delivers each event to the functions
 * serverless.yml subscribes to the bus (in-process, or through serverless-offline's Invoke API), and the gateway tells
 * clients where the log is (`qfdata events tail` follows it).
 *
 * Credentials never travel through serverless.yml: the root key is written into the local store, its secret sealed
 * under the local secrets key file (created here on first start, mode 0600), where the functions look keys up like
 * any other. The root key is written again at every start, enabled, with the full-control policy.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException, UpdateTableCommand, type GlobalSecondaryIndex, type TableDescription } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import yaml from 'js-yaml';
import { BosService } from '../shared/bos/service.js';
import { BucketService } from '../shared/datasets/buckets.js';
import { lambdaInvoker, startEventDispatcher, subscriptionsOf, type Dispatcher } from '../shared/events/dispatcher.js';
import { appendLines, localEventLogFile } from '../shared/events/publisher.js';
import { AccessKeyService, FileKeySealer, ensureKeyFile, secretsKeyFile } from '../shared/keys/index.js';
import { createObjectStore, type ObjectStore } from '../shared/objects/index.js';
import { DynamoMetadataStore, tableDefinition } from '../shared/store/index.js';
import type { RequestLine } from './bos-endpoint.js';
import { consoleBanner, createConsoleSite } from './console.js';
import { startDownloadServer } from './download-server.js';
import { formatRequestLine, startGateway, type Gateway } from './gateway.js';
import { guardProcess, startHost, type Host } from './host.js';
import { spawnTiedNode, stopGroup, watchAncestors } from './processes.js';
import { readServerlessYml } from './serverless-yml.js';

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

/** Who hosts the functions: in this process (`scripts/host.ts`) or serverless-offline. */
export type HostKind = 'inprocess' | 'offline';

export interface StackOptions {
  /** Data directory; everything persists below it. */
  dataDir: string;
  /** Who hosts the functions (default `offline`; `npm start` defaults to `inprocess`). */
  host?: HostKind;
  /** In-process: instances per function at most (each serves one invocation at a time, as a Lambda environment). */
  instances?: number;
  /** In-process: run the long-running background functions (import worker, scheduler) in worker threads (default true; `scripts/host.ts`). */
  threads?: boolean;
  /** In-process: functions beyond serverless.yml's (tests), declared as in serverless.yml. */
  extraFunctions?: Record<string, { handler: string; timeout?: number; events?: unknown[] }>;
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
  /** Extra environment for serverless-offline or the in-process host (handlers see only what serverless.yml passes). */
  env?: Record<string, string>;
  /** Echo serverless-offline's output, or what the in-process handlers write to stdout. */
  verbose?: boolean;
  /** Called once per answered request, of the API (the gateway) and of the object endpoint. */
  onRequest?: (line: RequestLine & { service: 'api' | 'objects' }) => void;
  /** Where the functions are built, relative to the project (default `.esbuild`; in-process: its `inprocess/`). */
  buildDir?: string;
  /** Called if serverless-offline exits while the stack runs (not when `stop` stops it). */
  onOfflineExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export interface Dynamo {
  endpoint: string;
  /**
   * Adds global secondary indexes to an existing table, where UpdateTable cannot: dynalite's never builds one. Only
   * for sparse indexes whose key attributes no existing item holds (nothing to backfill).
   */
  addIndexes?(tableName: string, definition: ReturnType<typeof tableDefinition>, indexNames: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/** The part of dynalite's store that holds table definitions (dynalite/db). */
interface DynaliteStore {
  tableDb: {
    lock(key: string, fn: (release: (cb: (error?: Error | null) => void) => (error?: Error | null) => void) => void): void;
    put(key: string, value: unknown, cb: (error?: Error | null) => void): void;
  };
  getTable(name: string, checkStatus: boolean, cb: (error: Error | null, table: TableDescription & Record<string, unknown>) => void): void;
}

export interface Stack {
  /** The API: the gateway in front of the functions. */
  url: string;
  /** Who hosts the functions. */
  host: HostKind;
  /** serverless-offline's own HTTP endpoint behind the gateway (for measurements; clients use `url`); in-process, `url`. */
  offlineUrl: string;
  lambdaUrl: string;
  /** The download server, which is also the BOS-compatible object endpoint. */
  downloadUrl: string;
  /** The BOS-compatible object endpoint (the download server's URL). */
  objectsUrl: string;
  /** The web console: `/console/` on the API's own origin (it signs every request in the browser). */
  consoleUrl: string;
  /** The event log (JSONL): every event the functions publish, as subscribers receive it. */
  eventLog: string;
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
  // Keep hold of the store dynalite builds (its table definitions), to add indexes its UpdateTable does not build.
  const internals = createRequire(import.meta.url)('dynalite/db') as { create: (options: unknown) => DynaliteStore };
  const create = internals.create;
  let store: DynaliteStore | undefined;
  internals.create = (o: unknown) => (store = closingStreams(create(o)));
  let server: ReturnType<typeof dynalite>;
  try {
    server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.dir ? { path: options.dir } : {}) });
  } finally {
    internals.create = create;
  }
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
    ...(store ? { addIndexes: (tableName, definition, indexNames) => addDynaliteIndexes(store!, tableName, definition, indexNames) } : {}),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** How long a dynalite read stream may sit unread before it is closed (see `closingStreams`). */
const IDLE_STREAM_MS = 10_000;

/** The part of a `level` database dynalite's streams are made of. */
interface LevelStreams {
  values(options?: unknown): { next(): Promise<unknown>; close(): Promise<void> };
  keys(options?: unknown): { next(): Promise<unknown>; close(): Promise<void> };
  createValueStream?: (options?: unknown) => Readable;
  createKeyStream?: (options?: unknown) => Readable;
}

/**
 * dynalite 4's streams over `level` 10 never close their iterator: their `destroy` calls `iterator.return()`, which
 * abstract-level 3's iterators do not have (they have `close()`). Every Query and Scan so left a LevelDB iterator
 * open (native memory, and the values it had read ahead), held until the database closes: ~30 KB a
 * DescribeDatasets, 1.9 GB after a minute of 16 clients, never given back (measured; a heap snapshot held one
 * `Iterator` per query). Here the main database makes streams that close their iterator when they end or are
 * destroyed, or once they have sat `IDLE_STREAM_MS` without being read (a query that stopped at its page).
 */
function closingStreams(store: DynaliteStore): DynaliteStore {
  const db = (store as unknown as { db?: LevelStreams }).db;
  if (!db || typeof db.values !== 'function' || typeof db.keys !== 'function') return store;
  const streamOf = (iterator: ReturnType<LevelStreams['values']>): Readable => {
    let timer: NodeJS.Timeout | undefined;
    const stream: Readable = new Readable({
      objectMode: true,
      read() {
        arm();
        iterator.next().then(
          (value) => void stream.push(value === undefined ? null : value),
          (error: Error) => stream.destroy(error),
        );
      },
      destroy(error, callback) {
        if (timer) clearTimeout(timer);
        iterator.close().then(
          () => callback(error),
          () => callback(error),
        );
      },
    });
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => stream.destroy(), IDLE_STREAM_MS);
      timer.unref();
    };
    arm();
    return stream;
  };
  db.createValueStream = (options) => streamOf(db.values(options));
  db.createKeyStream = (options) => streamOf(db.keys(options));
  return store;
}

/** Writes the named indexes of `definition` (and their key attributes) into dynalite's record of the table. */
function addDynaliteIndexes(store: DynaliteStore, tableName: string, definition: ReturnType<typeof tableDefinition>, indexNames: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    store.tableDb.lock(tableName, (release) => {
      const done = release((error) => (error ? reject(error) : resolve()));
      store.getTable(tableName, false, (error, table) => {
        if (error) return done(error);
        const attributes = [...(table.AttributeDefinitions ?? [])];
        const indexes = [...((table.GlobalSecondaryIndexes ?? []) as Record<string, unknown>[])];
        for (const index of (definition.GlobalSecondaryIndexes ?? []).filter((i) => indexNames.includes(i.IndexName!))) {
          for (const key of index.KeySchema ?? []) {
            if (!attributes.some((a) => a.AttributeName === key.AttributeName)) attributes.push(definition.AttributeDefinitions!.find((a) => a.AttributeName === key.AttributeName)!);
          }
          indexes.push({
            ...index,
            IndexArn: `${String(table.TableArn)}/index/${index.IndexName}`,
            IndexSizeBytes: 0,
            ItemCount: 0,
            IndexStatus: 'ACTIVE',
            ProvisionedThroughput: { ReadCapacityUnits: 0, WriteCapacityUnits: 0, NumberOfDecreasesToday: 0 },
          });
        }
        store.tableDb.put(tableName, { ...table, AttributeDefinitions: attributes, GlobalSecondaryIndexes: indexes }, done);
      });
    });
  });
}

/**
 * Creates the table if it does not exist yet, and waits until it is ACTIVE (writes to a CREATING table fail). A
 * table made before an index existed (GSI2, the outbox) gets it: UpdateTable creates it, as DynamoDB does; with
 * dynalite, whose UpdateTable does not build indexes, `dynamo.addIndexes` adds it.
 */
export async function ensureTable(endpoint: string, tableName: string, dynamo?: Pick<Dynamo, 'addIndexes'>): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const definition = tableDefinition(tableName);
  const describe = async () => {
    try {
      return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  const missingIndexes = (table: TableDescription | undefined): GlobalSecondaryIndex[] =>
    (definition.GlobalSecondaryIndexes ?? []).filter((want) => !(table?.GlobalSecondaryIndexes ?? []).some((has) => has.IndexName === want.IndexName));
  const active = async () => {
    for (let waited = 0; ; waited += 50) {
      const table = await describe();
      if (table?.TableStatus === 'ACTIVE' && (table.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE')) return table;
      if (waited > 30_000) throw new Error(`table ${tableName} did not become ACTIVE`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  try {
    if ((await describe()) === undefined) await client.send(new CreateTableCommand(definition));
    let table = await active();
    for (const index of missingIndexes(table)) {
      const attributes = definition.AttributeDefinitions!.filter((a) => index.KeySchema!.some((k) => k.AttributeName === a.AttributeName));
      try {
        await client.send(new UpdateTableCommand({ TableName: tableName, AttributeDefinitions: attributes, GlobalSecondaryIndexUpdates: [{ Create: { IndexName: index.IndexName!, KeySchema: index.KeySchema!, Projection: index.Projection! } }] }));
      } catch (error) {
        // dynalite refuses an on-demand index without throughput (DynamoDB does not): it is added below instead.
        if (!dynamo?.addIndexes) throw error;
      }
      table = await active();
    }
    const stillMissing = missingIndexes(table).map((i) => i.IndexName!);
    if (stillMissing.length > 0) {
      if (!dynamo?.addIndexes) throw new Error(`table ${tableName} lacks the index(es) ${stillMissing.join(', ')} and this DynamoDB did not build them`);
      await dynamo.addIndexes(tableName, definition, stillMissing);
      if (missingIndexes(await active()).length > 0) throw new Error(`could not add the index(es) ${stillMissing.join(', ')} to table ${tableName}`);
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
  const hostKind: HostKind = options.host ?? 'offline';
  const offlinePort = hostKind === 'offline' ? options.offlinePort || (await freePort()) : 0;
  const lambdaPort = options.lambdaPort || (await freePort());
  let host: Host | undefined;
  let hostReady = false;

  let downloads: Awaited<ReturnType<typeof startDownloadServer>> | undefined;
  const eventLog = localEventLogFile(dataDir);
  let dispatcher: Dispatcher | undefined;
  // The console is served from memory on the API's origin (no CORS for the API, as a same-origin deployment has it).
  const site = await createConsoleSite();
  // The API port first: a port in use fails the start before anything else is built.
  const gateway: Gateway = await startGateway({
    port: options.port || 0,
    ...(hostKind === 'inprocess' ? { inProcess: () => (hostReady && host ? host.http : undefined) } : { upstreamPort: offlinePort }),
    serveLocal: site.handle,
    endpoints: (): Record<string, string> => (downloads ? { objects: downloads.url, downloads: downloads.url, eventLog } : { eventLog }),
    ...(options.onRequest ? { onRequest: (line: RequestLine) => options.onRequest?.({ ...line, service: 'api' }) } : {}),
  });
  let dynamo: Dynamo | undefined;
  let child: ChildProcess | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      hostReady = false;
      await gateway.close();
      await dispatcher?.close();
      await host?.close();
      if (child) await stopGroup(child);
      await downloads?.close();
      await dynamo?.close();
    })());
  try {
    dynamo = await startDynamo({ dir: path.join(dataDir, 'dynamo'), ...(options.dynamoPort ? { port: options.dynamoPort } : {}) });
    await ensureTable(dynamo.endpoint, tableName, dynamo);
    const store = new DynamoMetadataStore({ tableName, region: 'us-east-1', endpoint: dynamo.endpoint });
    const keyFile = ensureKeyFile(path.resolve(secretsKeyFile({ QFDATA_SECRETS_KEY_FILE: options.env?.QFDATA_SECRETS_KEY_FILE ?? process.env.QFDATA_SECRETS_KEY_FILE, QFDATA_DATA_DIR: dataDir })));
    const keys = new AccessKeyService({ store, sealer: FileKeySealer.fromFile(keyFile) });
    await keys.issueForOperator({ account: ROOT_ACCOUNT, accessKeyId, secretAccessKey, description: 'local root key (written at every start)' });
    const objects = createObjectStore({ kind: 'fs', dataDir });
    await objects.createBucket(platformBucket);
    // The object endpoint decides bucket ownership with the same service and settings as the functions.
    const buckets = new BucketService({ store, objects, settings: { platformBucket, rootAccount: ROOT_ACCOUNT, canCreate: true } });
    downloads = await startDownloadServer({
      port: options.downloadPort || 0,
      objects,
      keys,
      store,
      bos: {
        service: new BosService({ objects: announcing(objects, platformBucket, eventLog), buckets, platformBucket }),
        ...(options.onRequest ? { onRequest: (line: RequestLine) => options.onRequest?.({ ...line, service: 'objects' }) } : {}),
      },
    });
    site.allow({ downloadUrls: [downloads.url] });

    // What serverless.yml's `${env:…}` resolve against (serverless-offline's own environment).
    const functionsEnv: NodeJS.ProcessEnv = {
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
    };
    let offlineUrl = gateway.url;
    let invoke: (functionName: string, event: unknown) => Promise<void>;
    if (hostKind === 'inprocess') {
      host = await startHost({
        root: ROOT,
        buildDir: options.buildDir ?? '.esbuild',
        env: functionsEnv,
        verbose: options.verbose ?? false,
        ...(options.instances ? { maxInstances: options.instances } : {}),
        ...(options.threads !== undefined ? { threads: options.threads } : {}),
        ...(options.extraFunctions ? { extraFunctions: options.extraFunctions } : {}),
      });
      await host.listenLambda(lambdaPort);
      hostReady = true;
      const names = new Set(host.functions.map((f) => f.name));
      const inProcess = host;
      invoke = async (functionName, event) => {
        if (!names.has(functionName)) throw new Error(`Function not found: ${functionName}`);
        inProcess.invokeAsync(functionName, event);
      };
    } else {
      child = startOffline({ httpPort: offlinePort, lambdaPort, verbose: options.verbose ?? false, env: functionsEnv });
      let output = '';
      const keep = (chunk: Buffer) => {
        output = (output + chunk.toString()).slice(-20_000);
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      offlineUrl = `http://127.0.0.1:${offlinePort}`;
      await waitForHttp(offlineUrl, child, 120_000).catch((error: Error) => {
        throw new Error(`${error.message}\n${output}`);
      });
      child.once('exit', (code, signal) => {
        if (!stopping) options.onOfflineExit?.(code, signal);
      });
      invoke = lambdaInvoker(`http://127.0.0.1:${lambdaPort}`);
    }
    // The bus: every event the functions append to the log reaches the functions subscribed to it.
    dispatcher = await startEventDispatcher({
      logFile: eventLog,
      subscriptions: localSubscriptions(),
      invoke,
      onFailure: (functionName, error) => process.stderr.write(`qfdata: could not deliver an event to ${functionName}: ${(error as Error).message}\n`),
    });
    return {
      url: gateway.url,
      host: hostKind,
      offlineUrl,
      lambdaUrl: `http://127.0.0.1:${lambdaPort}`,
      downloadUrl: downloads.url,
      objectsUrl: downloads.url,
      consoleUrl: site.url(gateway.url),
      eventLog,
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

/**
 * The object store as the BOS endpoint writes through it: each object written into a user's bucket (a PUT, a copy,
 * a completed multipart upload) is announced on the local bus as S3 announces it to EventBridge (`aws.s3`,
 * `Object Created`), so the import rules fire at once (the function subscribed to it, `objectCreated`).
 */
function announcing(objects: ObjectStore, platformBucket: string, eventLog: string): ObjectStore {
  const announce = (bucket: string, key: string) => {
    if (bucket === platformBucket) return Promise.resolve();
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [`arn:aws:s3:::${bucket}`],
      detail: { version: '0', bucket: { name: bucket }, object: { key }, reason: 'PutObject' },
    };
    return appendLines(eventLog, `${JSON.stringify(event)}\n`).catch(() => undefined);
  };
  return new Proxy(objects, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (prop === 'put') {
        return async (bucket: string, key: string, ...rest: unknown[]) => {
          const out = await (value as (...a: unknown[]) => Promise<unknown>).call(target, bucket, key, ...rest);
          await announce(bucket, key);
          return out;
        };
      }
      if (prop === 'copy') {
        return async (from: unknown, to: { bucket: string; key: string }, ...rest: unknown[]) => {
          const out = await (value as (...a: unknown[]) => Promise<unknown>).call(target, from, to, ...rest);
          await announce(to.bucket, to.key);
          return out;
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The functions serverless.yml subscribes to the bus in the local stage. */
export function localSubscriptions() {
  return subscriptionsOf(readServerlessYml(ROOT), 'local', (file) => yaml.load(readFileSync(path.join(ROOT, file), 'utf8')));
}

/**
 * How far V8 may let `npm start`'s heap grow past what a full garbage collection leaves, in percent (`npm start` sets
 * it, before anything runs). By default V8 lets it grow up to 4 times, and shrinks it only after the load stops: under
 * sustained requests the heap grew to ~170-220 MB around ~45 MB live (heap snapshots) and RSS kept rising for about a
 * minute to 450-550 MB. At 50% it levels off within ~20 s at ~200 MB, for a few more (concurrent) collections. It
 * applies to every isolate of the process, the host's worker threads included.
 */
export const HEAP_GROWING_PERCENT = 50;

/** How long `npm start` gives its stack to stop before it exits anyway (serverless-offline's group dies with it). */
const STOP_DEADLINE_MS = 15_000;

/** Where `npm start` keeps its data and which ports it takes: what `npm start`, `npm run root-key` and `npm run buckets` read. */
export interface LocalSettings {
  dataDir: string;
  port: number;
  lambdaPort: number;
  dynamoPort: number;
  downloadPort: number;
  offlinePort: number;
  /** dynalite's URL, where the operator scripts reach `npm start`'s store. */
  dynamoEndpoint: string;
}

/**
 * The local stack's settings from the environment, read the same way by every script: `QFDATA_DATA_DIR` (./.data),
 * `QFDATA_PORT` (8866) and the ports derived from it unless set (`QFDATA_LAMBDA_PORT` +1, `QFDATA_DYNAMO_PORT` +2,
 * `QFDATA_DOWNLOAD_PORT` +3, `QFDATA_OFFLINE_PORT` +4). A value that is not a port throws, naming the variable.
 */
export function localSettings(env: Record<string, string | undefined> = process.env): LocalSettings {
  const portOf = (name: string, fallback: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1 || value > 65535) throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(raw)}`);
    return value;
  };
  const port = portOf('QFDATA_PORT', 8866);
  const dynamoPort = portOf('QFDATA_DYNAMO_PORT', port + 2);
  return {
    dataDir: env.QFDATA_DATA_DIR || './.data',
    port,
    lambdaPort: portOf('QFDATA_LAMBDA_PORT', port + 1),
    dynamoPort,
    downloadPort: portOf('QFDATA_DOWNLOAD_PORT', port + 3),
    offlinePort: portOf('QFDATA_OFFLINE_PORT', port + 4),
    dynamoEndpoint: `http://127.0.0.1:${dynamoPort}`,
  };
}

/**
 * `npm start`. Hosts the functions in this process unless `QFDATA_HOST=offline` (serverless-offline); see the top of
 * this file. Stops everything on SIGINT, SIGTERM or SIGHUP, when npm (or whatever started it) is gone, and when
 * serverless-offline exits on its own; a signal during start-up exits at once (the pipe takes serverless-offline).
 * In-process, an unhandled rejection or uncaught exception (a handler's stray promise) is logged, never fatal.
 * Prints one line per request (API and object endpoint) unless `QFDATA_QUIET=1`; `QFDATA_VERBOSE=1` adds
 * serverless-offline's own output, or what the in-process handlers log. `QFDATA_HOST_INSTANCES` caps the instances of
 * a function in-process; `QFDATA_HOST_THREADS=0` runs the long-running background functions on the launcher's thread
 * too.
 */
export async function main(): Promise<void> {
  v8.setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const env = process.env;
  const settings = localSettings(env);
  const usingDefaults = !env.QIANFAN_ACCESS_KEY || !env.QIANFAN_SECRET_KEY;
  const quiet = env.QFDATA_QUIET === '1';
  const hostKind = env.QFDATA_HOST || 'inprocess';
  if (hostKind !== 'inprocess' && hostKind !== 'offline') throw new Error(`QFDATA_HOST must be inprocess or offline, got ${JSON.stringify(hostKind)}`);
  if (hostKind === 'inprocess') guardProcess();
  const instances = env.QFDATA_HOST_INSTANCES ? Number(env.QFDATA_HOST_INSTANCES) : undefined;
  // QFDATA_HOST_THREADS=0: every function on the launcher's thread (the import worker and the scheduler included).
  const threads = env.QFDATA_HOST_THREADS === '0' ? false : undefined;
  if (instances !== undefined && !(Number.isInteger(instances) && instances >= 1 && instances <= 64)) throw new Error(`QFDATA_HOST_INSTANCES must be an integer from 1 to 64, got ${JSON.stringify(env.QFDATA_HOST_INSTANCES)}`);
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
    dataDir: settings.dataDir,
    host: hostKind,
    ...(instances ? { instances } : {}),
    ...(threads === false ? { threads } : {}),
    port: settings.port,
    lambdaPort: settings.lambdaPort,
    dynamoPort: settings.dynamoPort,
    downloadPort: settings.downloadPort,
    offlinePort: settings.offlinePort,
    accessKeyId: env.QIANFAN_ACCESS_KEY || LOCAL_ACCESS_KEY,
    secretAccessKey: env.QIANFAN_SECRET_KEY || LOCAL_SECRET_KEY,
    verbose: env.QFDATA_VERBOSE === '1',
    ...(env.QFDATA_ESBUILD_DIR ? { buildDir: env.QFDATA_ESBUILD_DIR } : {}),
    ...(quiet ? {} : { onRequest: (line) => void process.stdout.write(`${formatRequestLine(line, new Date())}\n`) }),
    onOfflineExit: (code, signal) => void shutdown(`serverless-offline exited: ${code ?? signal}`, 1),
  });
  const lines = [
    '',
    `qfdata is running at ${stack.url}  (data in ${stack.dataDir}; functions ${stack.host === 'inprocess' ? 'in-process' : 'under serverless-offline'})`,
    `BOS-compatible object endpoint (and downloads) at ${stack.objectsUrl}`,
    consoleBanner(stack.consoleUrl),
    '',
    'Point the official SDKs at it:',
    `  export QIANFAN_CONSOLE_API_BASE_URL=${stack.url}   # JS, Python, Java`,
    `  export QIANFAN_CONSOLE_BASE_URL=${stack.url}       # Go`,
    `  export QIANFAN_ACCESS_KEY=${stack.accessKeyId}`,
    usingDefaults ? `  export QIANFAN_SECRET_KEY=${stack.secretAccessKey}   # local default credentials` : '  (secret key: the QIANFAN_SECRET_KEY you set)',
    `BOS clients: new BosClient({ endpoint: '${stack.objectsUrl}', credentials: { ak, sk } })`,
    `Events: ${stack.eventLog}  (npx qfdata events tail)`,
    '',
    quiet ? 'Ctrl-C stops everything.' : 'Ctrl-C stops everything. One line per request follows (QFDATA_QUIET=1 turns them off).',
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
