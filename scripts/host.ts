/**
 * The in-process host: serves the functions serverless.yml declares (the local stage's list) inside the launcher,
 * without serverless-offline and without a long-lived esbuild service. What `npm start` runs by default
 * (`scripts/local.ts`; `QFDATA_HOST=offline` picks serverless-offline instead).
 *
 * - **The same handlers.** Each function's handler module (`functions/**`, as serverless.yml names it, with its Middy
 *   chain) is bundled once at start-up by esbuild's build API (one build of every entry, no splitting, packages
 *   external; the service stops after it), into `<build dir>/inprocess/<function>.mjs`.
 * - **One module graph per function instance, as Lambda has one per execution environment.** An instance is an
 *   `import()` of the function's bundle under a URL of its own, so nothing module-global (the configuration, the
 *   composition root's store and key cache, the logger's invocation keys) is shared between functions or between
 *   two instances; the packages under node_modules are shared (they hold no per-function state here). An instance
 *   serves one invocation at a time, as Lambda does; a function gets up to `maxInstances` of them (its
 *   `reservedConcurrency` if lower), made on demand and kept warm, and invocations beyond that wait their turn.
 * - **Long-running background functions in threads of their own** (`isLongRunning`: no HTTP route, a timeout over a
 *   minute: the import worker, the scheduler with its exports). Each of their instances is a worker thread (its own
 *   isolate, event loop and module graph, packages included) that loads the bundle and serves one invocation per
 *   message (the event and the result cross by structured clone, a thrown error as its name, message and stack), so
 *   an import's parts really run at once, beside the launcher's thread (the gateway, dynalite, the API functions),
 *   which stays responsive during imports and exports. The other functions run on the launcher's thread: an
 *   instance there costs a module graph, a thread ~17 MB more (its isolate, its own copy of the packages). A thread
 *   unused for `threadIdleMs` (2 minutes) is stopped, as Lambda reclaims idle environments, so the memory of a burst
 *   of imports comes back; a thread that exits or dies fails the invocation it ran and leaves the pool, the next
 *   invocation gets a new one. `threads: false` runs every function on the launcher's thread. V8 flags are per
 *   process: `npm start`'s `--heap-growing-percent` (`scripts/local.ts`) applies to the threads too.
 * - **The environment serverless.yml gives each function.** `provider.environment` and the function's own
 *   `environment`, resolved for the local stage (`${env:…}`, `${param:…}`, `${self:…}`, `${sls:stage}`), plus the
 *   AWS variables Lambda (and serverless-offline) sets and `IS_OFFLINE=true`; the shell's other variables are not
 *   visible, as under serverless-offline. The bundles read `process.env` through an esbuild `define`, so each
 *   instance sees its own copy and the launcher's `process.env` is never changed (a thread's bundle takes its copy
 *   the same way; the packages see the launcher's environment, in a thread as on the launcher's thread). The
 *   bundles' source maps are files beside them (read only with `--enable-source-maps`): an instance keeps its
 *   module's source text, and an inline map doubled it (~0.8 MB an instance).
 * - **Events as API Gateway (HTTP API, payload 2.0) shapes them.** `http(request)` routes by the functions'
 *   `httpApi` events (exact path, then `{proxy+}`, then the `*` default route) and builds the version 2.0 event:
 *   `rawPath` and `rawQueryString` as sent, lower-case headers (repeated ones joined with commas),
 *   `queryStringParameters`, the body as text or base64 (`isBase64Encoded`, for octet-stream and multipart, as
 *   serverless-offline decides), `requestContext` with a fresh request id, `routeKey`, method, path, source ip.
 * - **A Lambda context per invocation**: a fresh `awsRequestId`, the function's name, version, memory and ARN, and
 *   `getRemainingTimeInMillis()` counting down the function's `timeout`. An HTTP invocation that outlives its timeout
 *   answers 504 at once (API Gateway's answer); the handler cannot be stopped, so its instance stays busy until it
 *   returns (a background invocation is logged when it overruns). `close` waits `graceMs` for running invocations,
 *   then stops the threads (what still runs in them fails).
 * - **Background work in-process**: `invokeAsync` (the event dispatcher, the Lambda Invoke endpoint with
 *   `InvocationType: Event`) runs the function without waiting; `schedule: rate(…)` events run on their rate. The
 *   Lambda Invoke API (`POST /2015-03-31/functions/<name>/invocations`, `Event` or `RequestResponse`) is served on
 *   the Lambda port, so the task queue (`shared/queue`), `npm run jobs` and direct invocations reach the functions
 *   as they reach serverless-offline's.
 * - **An invocation's failure is its own**: a handler that throws (at load or at run time) fails that invocation
 *   (500 in the path's envelope over HTTP, an `Unhandled` function error over Invoke, a log line in the background);
 *   nothing it does stops the host. `guardProcess()` (what `npm start` installs) logs an unhandled rejection or an
 *   uncaught exception instead of exiting; a thread logs its own (naming the function) and keeps serving, and a
 *   thread that exits (`process.exit` in a handler) or runs out of memory takes only its instance.
 * - **Its output**: what a handler writes to stdout (its JSON log lines) is dropped unless `verbose`, as `npm start`
 *   hides serverless-offline's output unless `QFDATA_VERBOSE=1` (in a thread, dropped there); stderr goes through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import yaml from 'js-yaml';
import { readServerlessYml } from './serverless-yml.js';

/** The local stage, as `npm start` runs it. */
const STAGE = 'local';
const REGION = 'us-east-1';

/** A function as serverless.yml declares it (resolved for the local stage). */
export interface HostedFunction {
  /** The key in serverless.yml (`v2Dataset`). */
  key: string;
  /** Its deployed name (`qfdata-local-v2Dataset`). */
  name: string;
  /** `functions/v2/dataset.handler`: the module, relative to the project, and the export. */
  handler: string;
  timeoutMs: number;
  memorySize: number;
  reservedConcurrency?: number;
  environment: Record<string, string>;
  routes: Route[];
  schedules: string[];
}

export interface Route {
  /** Upper-case method, or `*` for any. */
  method: string;
  /** `/v2/dataset`, `/wenxinworkshop/{proxy+}`, or `*` (the default route). */
  path: string;
  routeKey: string;
}

/** An HTTP request as the gateway hands it over: the request line and headers as received, the whole body. */
export interface HostRequest {
  method: string;
  /** The request target as received (`/v2/dataset?Action=…`). */
  url: string;
  /** Node's `rawHeaders`: name, value, name, value, … */
  rawHeaders: string[];
  body: Buffer;
  sourceIp: string;
}

/** What the gateway writes back. */
export interface HostResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

export interface HostOptions {
  root: string;
  /** The build folder relative to `root` (`.esbuild`); the bundles go to `<buildDir>/inprocess/`. */
  buildDir: string;
  /** What `${env:…}` resolves against (serverless-offline's environment: the launcher's plus the stack's settings). */
  env: Record<string, string | undefined>;
  /** Instances per function at most (each serves one invocation at a time). */
  maxInstances?: number;
  /** Show what handlers write to stdout. */
  verbose?: boolean;
  /** Functions beyond serverless.yml's (tests): key → declaration as in serverless.yml (handler path may be absolute). */
  extraFunctions?: Record<string, { handler: string; timeout?: number; events?: unknown[] }>;
  /** Called when a background invocation fails (default: a line on stderr). */
  onBackgroundError?: (functionName: string, error: unknown) => void;
  /** Run the instances of background functions (those with no HTTP route) in worker threads (default true). */
  threads?: boolean;
  /** How long a threaded instance may sit unused before its thread is stopped (default `THREAD_IDLE_MS`). */
  threadIdleMs?: number;
}

export interface Host {
  functions: readonly HostedFunction[];
  /** Serves one HTTP request through the function its route names. */
  http(request: HostRequest): Promise<HostResponse>;
  /** Invokes a function by its deployed name and waits for its result (throws what the handler threw). */
  invoke(functionName: string, event: unknown): Promise<unknown>;
  /** Invokes a function by its deployed name without waiting; a failure is reported, never thrown. */
  invokeAsync(functionName: string, event: unknown): void;
  /** Serves the Lambda Invoke API on 127.0.0.1:`port` (0: a free port); resolves with its URL. */
  listenLambda(port: number): Promise<string>;
  /** Resolves once no invocation is running (or after `timeoutMs`). */
  idle(timeoutMs?: number): Promise<void>;
  /** Stops the schedules and the Lambda endpoint; waits up to `graceMs` for running invocations, then stops the threads. */
  close(graceMs?: number): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// serverless.yml, resolved for the local stage

type Yaml = Record<string, unknown>;

/** Resolves serverless variables in `value` (`${env:X, 'default'}`, `${param:x}`, `${self:a.b}`, `${sls:stage}`, `${opt:…}`, `${file(…)}`). */
function resolver(doc: Yaml, root: string, env: Record<string, string | undefined>) {
  const params = (doc.params ?? {}) as Record<string, Yaml>;
  const lookupPath = (obj: unknown, dotted: string): unknown => dotted.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Yaml)[k] : undefined), obj);
  const literal = (text: string): unknown => {
    const t = text.trim();
    if (/^'.*'$/.test(t) || /^".*"$/.test(t)) return t.slice(1, -1);
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    return undefined;
  };
  const variable = (expr: string, depth: number): unknown => {
    // `source:address, fallback`: the fallback is a literal or another variable.
    const comma = expr.indexOf(',');
    const [head, fallback] = comma < 0 ? [expr, undefined] : [expr.slice(0, comma).trim(), expr.slice(comma + 1).trim()];
    let value: unknown;
    const file = /^file\(([^)]+)\)$/.exec(head);
    if (file) value = yaml.load(readFileSync(path.join(root, file[1]!), 'utf8'));
    else {
      const at = head.indexOf(':');
      const source = head.slice(0, at);
      const address = head.slice(at + 1);
      if (source === 'env') value = env[address];
      else if (source === 'param') value = params[STAGE]?.[address] ?? params.default?.[address];
      else if (source === 'self') value = lookupPath(doc, address);
      else if (source === 'sls' && address === 'stage') value = STAGE;
      else if (source === 'opt') value = address === 'stage' ? STAGE : address === 'region' ? REGION : undefined;
    }
    if ((value === undefined || value === null) && fallback !== undefined) value = fallback.startsWith('${') ? resolve(fallback, depth + 1) : literal(fallback);
    return value === undefined ? undefined : resolve(value, depth + 1);
  };
  const resolve = (value: unknown, depth = 0): unknown => {
    if (depth > 20) throw new Error('serverless.yml: variables nest too deep');
    if (typeof value === 'string') {
      const whole = /^\$\{(.+)\}$/.exec(value);
      if (whole && !whole[1]!.includes('${')) return variable(whole[1]!, depth);
      if (!value.includes('${')) return value;
      return value.replace(/\$\{([^${}]+)\}/g, (_m, expr: string) => String(variable(expr, depth) ?? ''));
    }
    if (Array.isArray(value)) return value.map((v) => resolve(v, depth + 1));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, depth + 1)]));
    return value;
  };
  return resolve;
}

/** The AWS variables Lambda sets for a function (the ones serverless-offline sets too). */
function awsEnvironment(name: string, handler: string, memorySize: number): Record<string, string> {
  return {
    _HANDLER: handler,
    AWS_DEFAULT_REGION: REGION,
    AWS_REGION: REGION,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memorySize),
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    LANG: 'en_US.UTF-8',
  };
}

/** The functions of the local stage, resolved: handler, timeout, environment, routes and schedules. */
export function hostedFunctions(root: string, env: Record<string, string | undefined>, extra: HostOptions['extraFunctions'] = {}): HostedFunction[] {
  const doc = readServerlessYml(root) as Yaml;
  const resolve = resolver(doc, root, env);
  const service = String(doc.service);
  const provider = (doc.provider ?? {}) as Yaml;
  const providerEnv = resolve(provider.environment ?? {}) as Record<string, unknown>;
  const parts = Array.isArray(doc.functions) ? doc.functions : [doc.functions];
  const declared: Record<string, Yaml> = {};
  for (const part of parts) {
    const resolved = resolve(part);
    if (resolved && typeof resolved === 'object') Object.assign(declared, resolved);
  }
  Object.assign(declared, extra);
  const stringEnv = (e: Record<string, unknown>) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, v === undefined || v === null ? '' : String(v)]));
  // Lambda (and serverless-offline) passes the AWS_* variables of the environment it runs in.
  const awsOfShell = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('AWS_') && v !== undefined)) as Record<string, string>;
  return Object.entries(declared).map(([key, fn]) => {
    const name = `${service}-${STAGE}-${key}`;
    const handler = String(fn.handler);
    const memorySize = Number(fn.memorySize ?? provider.memorySize ?? 1024);
    const routes: Route[] = [];
    const schedules: string[] = [];
    for (const event of (fn.events ?? []) as Yaml[]) {
      if (event.httpApi !== undefined) {
        const h = event.httpApi;
        if (h === '*') routes.push({ method: '*', path: '*', routeKey: '$default' });
        else if (h && typeof h === 'object') {
          const method = String((h as Yaml).method ?? '*').toUpperCase();
          const p = String((h as Yaml).path);
          routes.push({ method: method === 'ANY' ? '*' : method, path: p, routeKey: `${method === '*' ? 'ANY' : method} ${p}` });
        }
      }
      const rate = event.schedule;
      if (typeof rate === 'string') schedules.push(rate);
      else if (rate && typeof rate === 'object' && (rate as Yaml).enabled !== false && typeof (rate as Yaml).rate === 'string') schedules.push(String((rate as Yaml).rate));
    }
    return {
      key,
      name,
      handler,
      timeoutMs: Number(fn.timeout ?? provider.timeout ?? 6) * 1000,
      memorySize,
      ...(fn.reservedConcurrency !== undefined ? { reservedConcurrency: Number(fn.reservedConcurrency) } : {}),
      environment: {
        ...awsOfShell,
        ...awsEnvironment(name, handler, memorySize),
        ...stringEnv(providerEnv),
        ...stringEnv((fn.environment ?? {}) as Record<string, unknown>),
        IS_OFFLINE: 'true',
      },
      routes,
      schedules,
    };
  });
}

/** `rate(1 minute)` → 60000; undefined for what is not a rate (cron expressions are not run here). */
export function rateMs(expression: string): number | undefined {
  const m = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!m) return undefined;
  const unit = m[2]!.startsWith('minute') ? 60_000 : m[2]!.startsWith('hour') ? 3_600_000 : 86_400_000;
  return Number(m[1]) * unit;
}

// ---------------------------------------------------------------------------------------------------------------
// Building and loading the handlers

/**
 * Where an instance being loaded finds its environment: the bundle's banner takes it when the bundle is evaluated.
 * Loads are serialized (one bundle evaluated at a time), so each instance takes its own.
 */
const ENVIRONMENTS = Symbol.for('qfdata.host.environments');
interface EnvSlot {
  next?: Record<string, string | undefined>;
  take(): Record<string, string | undefined> | undefined;
  loading: Promise<unknown>;
}
const slot: EnvSlot = ((globalThis as Record<symbol, unknown>)[ENVIRONMENTS] as EnvSlot | undefined) ?? {
  loading: Promise.resolve(),
  take() {
    const env = this.next;
    this.next = undefined;
    return env;
  },
};
(globalThis as Record<symbol, unknown>)[ENVIRONMENTS] = slot;

/** Bundles every function's handler module (one esbuild build, then the esbuild service stops). */
async function buildBundles(root: string, outdir: string, functions: readonly HostedFunction[]): Promise<Map<string, string>> {
  const esbuild = await import('esbuild');
  await mkdir(outdir, { recursive: true });
  const entries = new Map<string, string>();
  for (const fn of functions) {
    const modulePath = fn.handler.slice(0, fn.handler.lastIndexOf('.'));
    const absolute = path.isAbsolute(modulePath) ? modulePath : path.join(root, modulePath);
    const source = ['.ts', '.mts', '.js', '.mjs'].map((ext) => absolute + ext).find((p) => existsSync(p));
    if (!source) throw new Error(`function ${fn.key}: no module for handler ${fn.handler}`);
    entries.set(fn.key, source);
  }
  const sources = [...new Set(entries.values())];
  const outName = (source: string) => path.relative(root, source).replace(/\.[^.]+$/, '').replace(/[^A-Za-z0-9_-]+/g, '_');
  try {
    await esbuild.build({
      entryPoints: Object.fromEntries(sources.map((s) => [outName(s), s])),
      outdir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      mainFields: ['module', 'main'],
      packages: 'external',
      splitting: false,
      // Beside the bundle, not in it: each instance keeps its module's source text, and Node reads a map only when
      // source maps are enabled (--enable-source-maps).
      sourcemap: 'linked',
      sourcesContent: false,
      logLevel: 'warning',
      // Each instance reads its own environment (by its module URL), never the launcher's process.env.
      define: { 'process.env': '__qfdataEnv' },
      banner: {
        js: [
          "import { createRequire as __qfCreateRequire } from 'node:module'; const require = __qfCreateRequire(import.meta.url);",
          `const __qfdataEnv = globalThis[Symbol.for('qfdata.host.environments')]?.take() ?? {};`,
        ].join('\n'),
      },
    });
  } finally {
    // The build service is not needed again (it would keep its own memory for as long as the launcher runs).
    await esbuild.stop?.();
  }
  return new Map([...entries].map(([key, source]) => [key, path.join(outdir, `${outName(source)}.mjs`)]));
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

/** What a Lambda context carries as data (the functions are added where the handler runs). */
interface ContextData {
  awsRequestId: string;
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string | undefined;
}

/** The context a handler gets: the data, and `getRemainingTimeInMillis()` counting down to `deadline`. */
function lambdaContext(data: ContextData, deadline: number) {
  return {
    ...data,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** One execution environment of a function: a module graph of its bundle, serving one invocation at a time. */
interface Instance {
  invoke(event: unknown, context: ContextData, deadline: number): Promise<unknown>;
  busy: boolean;
  /** Its thread is gone (it exited, or was stopped): never handed out again. */
  dead: boolean;
  /** Stops its thread (threaded instances). */
  stop?(): Promise<void>;
}

/**
 * The functions whose instances get threads of their own: background work (no HTTP route) that may run for more
 * than a minute (the import worker, the scheduler with its exports), the CPU-bound work worth a thread. Short event
 * handlers stay on the launcher's thread, where an instance costs a module graph and no isolate.
 */
export function isLongRunning(fn: Pick<HostedFunction, 'routes' | 'timeoutMs'>): boolean {
  return fn.routes.length === 0 && fn.timeoutMs > 60_000;
}

/** How long a threaded instance may sit unused before its thread is stopped (Lambda reclaims idle environments too). */
export const THREAD_IDLE_MS = 2 * 60_000;

/** A function's warm instances and the invocations waiting for one. */
class Pool {
  readonly instances: Instance[] = [];
  /** Waiting invocations: handed a (busy) instance, or `undefined` when a slot came free for them to fill. */
  readonly waiting: ((instance: Instance | undefined) => void)[] = [];
  readonly #idleTimers = new Map<Instance, NodeJS.Timeout>();
  creating = 0;
  constructor(
    readonly fn: HostedFunction,
    readonly bundle: string,
    readonly hostId: string,
    readonly max: number,
    /** Instances run in worker threads of their own (background functions), else on the launcher's thread. */
    readonly threaded: boolean,
    readonly verbose: boolean,
    readonly idleMs: number,
  ) {}

  async acquire(): Promise<Instance> {
    for (;;) {
      const free = this.instances.find((i) => !i.busy && !i.dead);
      if (free) {
        this.#take(free);
        return free;
      }
      if (this.instances.length + this.creating < this.max) {
        this.creating++;
        try {
          const n = this.instances.length + this.creating;
          const instance = this.threaded ? await ThreadInstance.start(this.fn, this.bundle, n, this.verbose, (dead) => this.#died(dead)) : await this.#load(n);
          this.instances.push(instance);
          return instance;
        } catch (error) {
          // The slot is free again: a waiting invocation may try its own load.
          this.waiting.shift()?.(undefined);
          throw error;
        } finally {
          this.creating--;
        }
      }
      const handed = await new Promise<Instance | undefined>((resolve) => this.waiting.push(resolve));
      if (handed) return handed;
    }
  }

  release(instance: Instance): void {
    if (instance.dead) {
      this.#remove(instance);
      this.waiting.shift()?.(undefined);
      return;
    }
    const next = this.waiting.shift();
    if (next) return next(instance);
    instance.busy = false;
    if (instance.stop) {
      const timer = setTimeout(() => {
        this.#idleTimers.delete(instance);
        if (instance.busy || instance.dead) return;
        this.#remove(instance);
        void instance.stop?.();
      }, this.idleMs);
      timer.unref();
      this.#idleTimers.set(instance, timer);
    }
  }

  /** Stops every threaded instance (running invocations fail). */
  async stop(): Promise<void> {
    for (const t of this.#idleTimers.values()) clearTimeout(t);
    this.#idleTimers.clear();
    await Promise.all(this.instances.splice(0).map((i) => i.stop?.()));
  }

  #take(instance: Instance): void {
    instance.busy = true;
    const timer = this.#idleTimers.get(instance);
    if (timer) clearTimeout(timer);
    this.#idleTimers.delete(instance);
  }

  /** A thread that exited on its own: an idle one leaves the pool now, a busy one when its invocation is released. */
  #died(instance: Instance): void {
    if (!instance.busy) {
      this.#remove(instance);
      this.waiting.shift()?.(undefined);
    }
  }

  #remove(instance: Instance): void {
    const at = this.instances.indexOf(instance);
    if (at >= 0) this.instances.splice(at, 1);
    const timer = this.#idleTimers.get(instance);
    if (timer) clearTimeout(timer);
    this.#idleTimers.delete(instance);
  }

  /** A fresh module graph of the function's bundle on the launcher's thread, with its own copy of the function's environment. */
  async #load(n: number): Promise<Instance> {
    const url = `${pathToFileURL(this.bundle).href}?host=${this.hostId}&instance=${n}-${randomUUID().slice(0, 8)}`;
    const load = slot.loading.then(async () => {
      slot.next = { ...this.fn.environment };
      try {
        return (await import(url)) as Record<string, unknown>;
      } finally {
        slot.next = undefined;
      }
    });
    slot.loading = load.catch(() => undefined);
    const mod = await load;
    const exported = this.fn.handler.slice(this.fn.handler.lastIndexOf('.') + 1);
    const handler = mod[exported];
    if (typeof handler !== 'function') throw new Error(`function ${this.fn.key}: ${this.fn.handler} is not a function`);
    return {
      busy: true,
      dead: false,
      invoke: (event, context, deadline) => (handler as Handler)(event, lambdaContext(context, deadline)),
    };
  }
}

/**
 * What a worker thread of a threaded instance runs (plain JavaScript, evaluated as the thread's main script): it
 * hands the bundle its environment, drops what handlers write to stdout unless verbose, logs (never dies of) a
 * stray rejection or exception, loads the bundle, then serves one invocation per message.
 */
const THREAD_MAIN = `
const { parentPort, workerData } = require('node:worker_threads');
const { environment, url, exported, verbose, functionName } = workerData;
globalThis[Symbol.for('qfdata.host.environments')] = { take: () => ({ ...environment }) };
if (!verbose) {
  process.stdout.write = (...args) => {
    const done = args.find((a) => typeof a === 'function');
    if (done) queueMicrotask(done);
    return true;
  };
}
const describe = (e) => (e instanceof Error ? e.stack || e.name + ': ' + e.message : String(e));
process.on('unhandledRejection', (r) => process.stderr.write('qfdata: ' + functionName + ': unhandled rejection (the instance keeps running): ' + describe(r) + '\\n'));
process.on('uncaughtException', (e) => process.stderr.write('qfdata: ' + functionName + ': uncaught exception (the instance keeps running): ' + describe(e) + '\\n'));
const failure = (e) => (e instanceof Error ? { name: e.name, message: e.message, stack: e.stack } : { name: 'Error', message: String(e) });
import(url).then(
  (mod) => {
    const handler = mod[exported];
    if (typeof handler !== 'function') return parentPort.postMessage({ kind: 'load-failed', error: failure(new Error(functionName + ': ' + exported + ' is not a function')) });
    parentPort.on('message', async ({ event, context, deadline }) => {
      const ctx = { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), done() {}, fail() {}, succeed() {} };
      let answer;
      try {
        answer = { kind: 'result', ok: true, result: await handler(event, ctx) };
      } catch (e) {
        answer = { kind: 'result', ok: false, error: failure(e) };
      }
      try {
        parentPort.postMessage(answer);
      } catch (e) {
        parentPort.postMessage({ kind: 'result', ok: false, error: failure(e) });
      }
    });
    parentPort.postMessage({ kind: 'ready' });
  },
  (e) => parentPort.postMessage({ kind: 'load-failed', error: failure(e) }),
);
`;

type ThreadMessage = { kind: 'ready' } | { kind: 'load-failed'; error: ErrorData } | { kind: 'result'; ok: true; result: unknown } | { kind: 'result'; ok: false; error: ErrorData };
interface ErrorData {
  name: string;
  message: string;
  stack?: string;
}
const errorOf = (data: ErrorData): Error => Object.assign(new Error(data.message), { name: data.name, ...(data.stack ? { stack: data.stack } : {}) });

/**
 * An instance in a worker thread of its own: its own isolate, event loop and module graph (the function's bundle
 * and the packages it loads), so it runs in parallel with the launcher's thread (the gateway, dynalite, the other
 * functions) and with the function's other instances. Events and results cross by structured clone.
 */
class ThreadInstance implements Instance {
  busy = true;
  dead = false;
  readonly #worker: Worker;
  #pending: { resolve: (value: unknown) => void; reject: (error: Error) => void } | undefined;
  #exited: Promise<void>;
  #stopping = false;

  private constructor(worker: Worker, onDeath: (instance: ThreadInstance) => void) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (message: ThreadMessage) => {
      if (message.kind !== 'result') return;
      const pending = this.#pending;
      this.#pending = undefined;
      worker.unref();
      if (message.ok) pending?.resolve(message.result);
      else pending?.reject(errorOf(message.error));
    });
    // An uncaught error the thread's own handlers could not catch (or the thread ran out of memory): it is gone.
    worker.on('error', (error) => this.#end(error));
    worker.on('exit', (code) => this.#end(new Error(this.#stopping ? 'the host stopped the instance' : `the instance's thread exited (code ${code})`), this.#stopping ? undefined : onDeath));
  }

  #end(error: Error, onDeath?: (instance: ThreadInstance) => void): void {
    this.dead = true;
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.reject(error);
    onDeath?.(this);
  }

  static async start(fn: HostedFunction, bundle: string, n: number, verbose: boolean, onDeath: (instance: ThreadInstance) => void): Promise<ThreadInstance> {
    const worker = new Worker(THREAD_MAIN, {
      eval: true,
      workerData: {
        environment: fn.environment,
        url: `${pathToFileURL(bundle).href}?instance=${n}`,
        exported: fn.handler.slice(fn.handler.lastIndexOf('.') + 1),
        verbose,
        functionName: fn.name,
      },
    });
    const ready = await new Promise<ThreadMessage>((resolve) => {
      const onExit = (code: number) => resolve({ kind: 'load-failed', error: { name: 'Error', message: `the instance's thread exited (code ${code}) while loading` } });
      worker.once('message', (message: ThreadMessage) => {
        worker.off('exit', onExit);
        resolve(message);
      });
      worker.once('exit', onExit);
    });
    if (ready.kind !== 'ready') {
      await worker.terminate();
      throw ready.kind === 'load-failed' ? errorOf(ready.error) : new Error(`function ${fn.key}: its thread did not start`);
    }
    worker.unref();
    return new ThreadInstance(worker, onDeath);
  }

  invoke(event: unknown, context: ContextData, deadline: number): Promise<unknown> {
    if (this.dead) return Promise.reject(new Error("the instance's thread is gone"));
    return new Promise((resolve, reject) => {
      this.#pending = { resolve, reject };
      // A running invocation keeps the process alive; an idle thread does not.
      this.#worker.ref();
      try {
        this.#worker.postMessage({ event, context, deadline });
      } catch (error) {
        this.#pending = undefined;
        this.#worker.unref();
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.dead = true;
    await this.#worker.terminate();
    await this.#exited;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Handler output: dropped unless verbose (one patch of process.stdout per process, whatever the number of hosts)

const invocationScope = new AsyncLocalStorage<{ verbose: boolean }>();
const STDOUT_PATCHED = Symbol.for('qfdata.host.stdout');
function patchStdout(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[STDOUT_PATCHED]) return;
  g[STDOUT_PATCHED] = true;
  const write = process.stdout.write.bind(process.stdout) as (...args: unknown[]) => boolean;
  process.stdout.write = ((...args: unknown[]) => {
    const scope = invocationScope.getStore();
    if (scope && !scope.verbose) {
      const done = args.find((a) => typeof a === 'function') as (() => void) | undefined;
      if (done) queueMicrotask(done);
      return true;
    }
    return write(...args);
  }) as typeof process.stdout.write;
}

/** Logs an unhandled rejection or an uncaught exception instead of exiting (`npm start` installs it). */
export function guardProcess(write: (line: string) => void = (line) => void process.stderr.write(line)): void {
  const g = globalThis as Record<symbol, unknown>;
  const key = Symbol.for('qfdata.host.guarded');
  if (g[key]) return;
  g[key] = true;
  process.on('unhandledRejection', (reason) => write(`qfdata: unhandled rejection (the host keeps running): ${describe(reason)}\n`));
  process.on('uncaughtException', (error) => write(`qfdata: uncaught exception (the host keeps running): ${describe(error)}\n`));
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
}

// ---------------------------------------------------------------------------------------------------------------
// Events

function headersOf(rawHeaders: string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    headers[name] = headers[name] === undefined ? rawHeaders[i + 1]! : `${headers[name]},${rawHeaders[i + 1]!}`;
  }
  return headers;
}

const BINARY_TYPES = ['application/octet-stream', 'multipart/form-data'];

/** The API Gateway HTTP API (payload 2.0) event for a request routed to `route`. */
export function httpEvent(request: HostRequest, route: Route) {
  const target = request.url || '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQueryString = q < 0 ? '' : target.slice(q + 1);
  const headers = headersOf(request.rawHeaders);
  let queryStringParameters: Record<string, string> | undefined;
  if (rawQueryString) {
    queryStringParameters = {};
    for (const [k, v] of new URLSearchParams(rawQueryString)) queryStringParameters[k] = queryStringParameters[k] === undefined ? v : `${queryStringParameters[k]},${v}`;
  }
  const binary = BINARY_TYPES.some((t) => (headers['content-type'] ?? '').includes(t));
  const hasBody = request.body.length > 0;
  if (hasBody && !headers['content-type']) headers['content-type'] = 'application/json';
  let pathParameters: Record<string, string> | undefined;
  if (route.path.endsWith('{proxy+}')) pathParameters = { proxy: rawPath.slice(route.path.length - '{proxy+}'.length) };
  const now = new Date();
  const cookies = headers.cookie ? headers.cookie.split(';').map((c) => c.trim()).filter(Boolean) : undefined;
  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'qfdata-local',
      domainName: headers.host?.split(':')[0] ?? '127.0.0.1',
      domainPrefix: (headers.host ?? '127.0.0.1').split('.')[0]!,
      http: { method: request.method.toUpperCase(), path: rawPath, protocol: 'HTTP/1.1', sourceIp: request.sourceIp, userAgent: headers['user-agent'] ?? '' },
      requestId: randomUUID(),
      routeKey: route.routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(pathParameters ? { pathParameters } : {}),
    ...(hasBody ? { body: request.body.toString(binary ? 'base64' : 'utf8'), isBase64Encoded: binary } : { isBase64Encoded: false }),
    stageVariables: undefined,
  };
}

/** Matches API Gateway's order: an exact route, then the longest `{proxy+}` prefix, then the default route. */
function router(functions: readonly HostedFunction[]) {
  const exact = new Map<string, [HostedFunction, Route]>();
  const greedy: [string, string, HostedFunction, Route][] = [];
  let fallback: [HostedFunction, Route] | undefined;
  for (const fn of functions) {
    for (const route of fn.routes) {
      if (route.path === '*') fallback = [fn, route];
      else if (route.path.endsWith('/{proxy+}')) greedy.push([route.method, route.path.slice(0, -'{proxy+}'.length), fn, route]);
      else exact.set(`${route.method} ${route.path}`, [fn, route]);
    }
  }
  greedy.sort((a, b) => b[1].length - a[1].length);
  return (method: string, rawPath: string): [HostedFunction, Route] | undefined => {
    const m = method.toUpperCase();
    const hit = exact.get(`${m} ${rawPath}`) ?? exact.get(`* ${rawPath}`);
    if (hit) return hit;
    for (const [gm, prefix, fn, route] of greedy) if ((gm === m || gm === '*') && rawPath.startsWith(prefix) && rawPath.length > prefix.length) return [fn, route];
    return fallback;
  };
}

/** A handler's result as API Gateway (payload 2.0) turns it into an HTTP answer. */
function httpAnswer(result: unknown): HostResponse {
  if (typeof result === 'string' || !result || typeof result !== 'object' || !('statusCode' in result)) {
    const body = typeof result === 'string' ? result : JSON.stringify(result ?? null);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) };
  }
  const r = result as { statusCode: number; headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown[]>; body?: unknown; isBase64Encoded?: boolean; cookies?: string[] };
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(r.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, vs] of Object.entries(r.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
  if (r.cookies?.length) headers['set-cookie'] = r.cookies;
  headers['content-type'] ??= 'application/json';
  const body = r.body === undefined || r.body === null ? Buffer.alloc(0) : Buffer.from(String(r.body), r.isBase64Encoded ? 'base64' : 'utf8');
  return { statusCode: r.statusCode, headers, body };
}

export class InvocationTimeout extends Error {
  override name = 'TimeoutError';
}

// ---------------------------------------------------------------------------------------------------------------
// The host

export async function startHost(options: HostOptions): Promise<Host> {
  const functions = hostedFunctions(options.root, options.env, options.extraFunctions);
  const byName = new Map(functions.map((f) => [f.name, f]));
  const hostId = randomUUID().slice(0, 8);
  const bundles = await buildBundles(options.root, path.join(options.root, options.buildDir, 'inprocess'), functions);
  const maxInstances = options.maxInstances ?? 8;
  const verbose = options.verbose ?? false;
  const threads = options.threads ?? true;
  const pools = new Map(
    functions.map((f) => [
      f.name,
      new Pool(f, bundles.get(f.key)!, hostId, Math.max(1, Math.min(maxInstances, f.reservedConcurrency ?? maxInstances)), threads && isLongRunning(f), verbose, options.threadIdleMs ?? THREAD_IDLE_MS),
    ]),
  );
  const route = router(functions);
  patchStdout();
  let running = 0;
  let closed = false;
  const idleWaiters: (() => void)[] = [];
  const onBackgroundError =
    options.onBackgroundError ?? ((name: string, error: unknown) => void process.stderr.write(`qfdata: ${name} failed in the background: ${describe(error)}\n`));

  /** Runs one invocation on an instance of `fn`: resolves or rejects with the handler's outcome; `onTimeout` fires when it overruns. */
  const run = async (fn: HostedFunction, event: unknown, onTimeout?: () => void): Promise<unknown> => {
    const pool = pools.get(fn.name)!;
    running++;
    try {
      const instance = await invocationScope.run({ verbose }, () => pool.acquire());
      const deadline = Date.now() + fn.timeoutMs;
      const context: ContextData = {
        awsRequestId: randomUUID(),
        callbackWaitsForEmptyEventLoop: true,
        functionName: fn.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: `arn:aws:lambda:${REGION}:000000000000:function:${fn.name}`,
        memoryLimitInMB: String(fn.memorySize),
        logGroupName: `/aws/lambda/${fn.name}`,
        logStreamName: fn.environment.AWS_LAMBDA_LOG_STREAM_NAME,
      };
      const timer = setTimeout(() => onTimeout?.(), fn.timeoutMs);
      timer.unref();
      try {
        return await invocationScope.run({ verbose }, async () => instance.invoke(event, context, deadline));
      } finally {
        clearTimeout(timer);
        pool.release(instance);
      }
    } finally {
      running--;
      if (running === 0) for (const w of idleWaiters.splice(0)) w();
    }
  };

  const functionNamed = (name: string): HostedFunction => {
    const fn = byName.get(name);
    if (!fn) throw Object.assign(new Error(`Function not found: ${name}`), { name: 'ResourceNotFoundException' });
    return fn;
  };

  const invoke = (name: string, event: unknown): Promise<unknown> => run(functionNamed(name), event);
  const invokeAsync = (name: string, event: unknown): void => {
    let fn: HostedFunction;
    try {
      fn = functionNamed(name);
    } catch (error) {
      onBackgroundError(name, error);
      return;
    }
    const started = Date.now();
    run(fn, event, () => process.stderr.write(`qfdata: ${name} is still running after its timeout (${fn.timeoutMs / 1000} s; started ${new Date(started).toISOString()})\n`)).catch((error) =>
      onBackgroundError(name, error),
    );
  };

  const http = async (request: HostRequest): Promise<HostResponse> => {
    const target = request.url || '/';
    const q = target.indexOf('?');
    const found = route(request.method, q < 0 ? target : target.slice(0, q));
    if (!found) return { statusCode: 404, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"message":"Not Found"}') };
    const [fn, r] = found;
    let timedOut: () => void = () => undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timedOut = () => reject(new InvocationTimeout(`${fn.name} did not answer within its timeout (${fn.timeoutMs / 1000} s)`));
    });
    const result = await Promise.race([run(fn, httpEvent(request, r), () => timedOut()), timeout]);
    return httpAnswer(result);
  };

  // Schedules (serverless-offline runs them too): `rate(…)` only; the first run one period after start.
  const timers: NodeJS.Timeout[] = [];
  for (const fn of functions) {
    for (const expression of fn.schedules) {
      const ms = rateMs(expression);
      if (ms === undefined) {
        process.stderr.write(`qfdata: ${fn.key}: schedule ${expression} is not run locally (only rate(…) is)\n`);
        continue;
      }
      const timer = setInterval(() => {
        if (closed) return;
        invokeAsync(fn.name, {
          version: '0',
          id: randomUUID(),
          'detail-type': 'Scheduled Event',
          source: 'aws.events',
          account: '000000000000',
          time: new Date().toISOString(),
          region: REGION,
          resources: [`arn:aws:events:${REGION}:000000000000:rule/${fn.name}-schedule`],
          detail: {},
        });
      }, ms);
      timer.unref();
      timers.push(timer);
    }
  }

  let lambdaServer: Server | undefined;
  const listenLambda = async (port: number): Promise<string> => {
    const server = createServer((req, res) => void serveInvoke(req, res));
    lambdaServer = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new Error(`port ${port} is in use: is another qfdata running? Set QFDATA_LAMBDA_PORT to use another port.`) : error),
      );
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  };

  /** The Lambda Invoke API, as serverless-offline answers it. */
  const serveInvoke = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      const body = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
      if (res.headersSent) return void res.end();
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
      res.end(body);
    };
    try {
      const m = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec((req.url ?? '').split('?')[0]!);
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of req as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > 6 * 1024 * 1024) return send(413, { Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation', Type: 'User' }, { 'x-amzn-ErrorType': 'RequestTooLargeException' });
        chunks.push(chunk);
      }
      if (req.method !== 'POST' || !m) return send(404, { Message: 'Not Found', Type: 'User' });
      const name = decodeURIComponent(m[1]!);
      if (!byName.has(name)) return send(404, { Message: `Function not found: ${name}`, Type: 'User' }, { 'x-amzn-ErrorType': 'ResourceNotFoundException' });
      const text = Buffer.concat(chunks).toString('utf8');
      let event: unknown;
      try {
        event = text.length > 0 ? JSON.parse(text) : {};
      } catch {
        return send(400, { Message: 'Could not parse request body into json', Type: 'User' }, { 'x-amzn-ErrorType': 'InvalidRequestContentException' });
      }
      const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
      if (type === 'Event') {
        invokeAsync(name, event);
        return send(202, undefined);
      }
      if (type !== 'RequestResponse') return send(400, { Message: `invocationType: '${type}' not supported`, Type: 'User' }, { 'x-amzn-ErrorType': 'InvalidParameterValueException' });
      try {
        const result = await invoke(name, event);
        send(200, result === undefined ? 'null' : typeof result === 'string' ? JSON.stringify(result) : result);
      } catch (error) {
        const e = error instanceof Error ? error : new Error(String(error));
        send(200, { errorType: e.name, errorMessage: e.message, trace: (e.stack ?? '').split('\n') }, { 'X-Amz-Function-Error': 'Unhandled' });
      }
    } catch (error) {
      send(500, { Message: describe(error), Type: 'Service' });
    }
  };

  const idle = (timeoutMs = 30_000): Promise<void> =>
    running === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const t = setTimeout(resolve, timeoutMs);
          t.unref();
          idleWaiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });

  return {
    functions,
    http,
    invoke,
    invokeAsync,
    listenLambda,
    idle,
    async close(graceMs = 5000) {
      closed = true;
      for (const t of timers) clearInterval(t);
      if (lambdaServer) {
        const server = lambdaServer;
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }
      await idle(graceMs);
      // Threads still running after the grace are stopped with the rest (their invocations fail).
      await Promise.all([...pools.values()].map((p) => p.stop()));
    },
  };
}
