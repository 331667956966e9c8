/**
 * The local twin under load (`npm run bench -- local`): `npm start` itself, as a user runs it (`node scripts/run.mjs
 * scripts/local.ts`, on free ports and a temporary data directory), once with the in-process host (the default) and
 * once with serverless-offline (`QFDATA_HOST=offline`, the baseline), one after the other in the same run.
 *
 * For each: the RSS of every process `npm start` leaves running (the launcher and all its descendants: dynalite,
 * serverless-offline, its worker threads, the esbuild service) 10 s after start-up (`idleAfterStart`) and, idle as a
 * twin left running is, 10 s after its scheduler's first run a minute after start (`idle`); then signed DescribeDatasets
 * (bce-auth-v1, the shared signer) from 16 clients for `QFDATA_BENCH_LOAD_SECONDS` (60 s) with the RSS sampled every
 * 5 s, then from 64 clients for a third of that, then the RSS again after 10 s idle. Flat after warm-up: the largest
 * sample after the first 15 s of load against the sample at 15 s (`growthAfterWarmUp`, target ≤ 1.1), beside the
 * mean of the last third of the samples against the mean of the middle third (the trend). Requests per second, p50
 * and p99, whether each target is met (`met`), and the ratios of the in-process host to serverless-offline.
 * `local.inprocess` or `local.offline` runs only one of them. `startNpmStart`, `stopNpmStart` and `treeCpuMs` serve
 * the fan-out bench too (`./fanout.ts`).
 *
 * The load comes from this process, on the same 2 cores as the twin (each client one keep-alive connection; the
 * signature is made once a second and reused, as a client may within its lifetime).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY, ROOT } from '../scripts/local.js';
import { sign } from '../shared/signer/index.js';
import { progress, round, summarize } from './stats.js';

/** The processes of a tree (`pid` and every descendant), from /proc: pid, command name, RSS in MB. */
export function processTree(pid: number): { pid: number; name: string; rssMb: number }[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone meanwhile */
    }
  }
  const tree = new Set([pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [child, parent] of parents) {
      if (tree.has(parent) && !tree.has(child)) {
        tree.add(child);
        grew = true;
      }
    }
  }
  const out: { pid: number; name: string; rssMb: number }[] = [];
  for (const p of tree) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const base = cmdline.map((a) => path.basename(a));
      const name = /esbuild$/.test(base[0] ?? '') ? 'esbuild' : (base.find((a) => /\.(m?js|ts)$/.test(a) && a !== 'exit-with-parent.mjs') ?? base[0] ?? String(p));
      out.push({ pid: p, name, rssMb: round(rssKb / 1024, 1) });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

export function treeRssMb(pid: number): number {
  return round(
    processTree(pid).reduce((sum, p) => sum + p.rssMb, 0),
    1,
  );
}

export interface Credentials {
  url: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Signed headers for one request, remade at most once a second (a signature may be reused within its lifetime). */
function signer(target: Credentials, pathName: string, query: string, body: string) {
  let at = '';
  let headers: Record<string, string> = {};
  const host = new URL(target.url).host;
  return () => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (now !== at) {
      at = now;
      headers = { host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'x-bce-date': now };
      headers.authorization = sign({ method: 'POST', path: pathName, query, headers, accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey }).authorization;
    }
    return headers;
  };
}

/** One signed POST; resolves with its status and body. */
export function signedPost(agent: Agent, target: Credentials, headers: Record<string, string>, pathAndQuery: string, body: string): Promise<{ status: number; text: string }> {
  const url = new URL(target.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method: 'POST', path: pathAndQuery, headers, agent, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export interface LoadResult {
  clients: number;
  seconds: number;
  requests: number;
  errors: number;
  rps: number;
  ms: { p50: number; p99: number; mean: number };
}

/**
 * `clients` loops, each on its own keep-alive connection, sending signed DescribeDatasets for `seconds`; `onTick`
 * every 5 s. An answer other than 200 counts as an error (and is not timed).
 */
export async function describeLoad(target: Credentials, options: { clients: number; seconds: number; onTick?: (elapsedS: number) => void }): Promise<LoadResult> {
  const body = '{"maxKeys":10}';
  const headersOf = signer(target, '/v2/dataset', 'Action=DescribeDatasets', body);
  const agent = new Agent({ keepAlive: true, maxSockets: options.clients });
  const times: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const tick = options.onTick ? setInterval(() => options.onTick?.(Math.round((performance.now() - started) / 1000)), 5000) : undefined;
  try {
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (performance.now() < deadline) {
          const t = performance.now();
          try {
            const answer = await signedPost(agent, target, headersOf(), '/v2/dataset?Action=DescribeDatasets', body);
            if (answer.status === 200) times.push(performance.now() - t);
            else errors++;
          } catch {
            errors++;
          }
        }
      }),
    );
  } finally {
    if (tick) clearInterval(tick);
    agent.destroy();
  }
  const elapsed = (performance.now() - started) / 1000;
  const s = summarize(times);
  return { clients: options.clients, seconds: round(elapsed, 1), requests: times.length, errors, rps: round(times.length / elapsed, 0), ms: { p50: s.p50, p99: s.p99, mean: s.mean } };
}

/** `npm start` on free ports and a temporary data directory, with `host` (and `extraEnv`); resolves once it printed its banner. */
export async function startNpmStart(host: 'inprocess' | 'offline', dataDir: string, extraEnv: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string; startMs: number }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    QFDATA_HOST: host,
    QFDATA_PORT: String(port),
    QFDATA_LAMBDA_PORT: String(await freePort()),
    QFDATA_DYNAMO_PORT: String(await freePort()),
    QFDATA_DOWNLOAD_PORT: String(await freePort()),
    QFDATA_OFFLINE_PORT: String(await freePort()),
    QFDATA_DATA_DIR: dataDir,
    QFDATA_ESBUILD_DIR: `.esbuild/bench-local-${path.basename(dataDir)}`,
    QFDATA_QUIET: '1',
    LOG_LEVEL: 'warn',
    ...extraEnv,
  };
  delete env.QIANFAN_ACCESS_KEY;
  delete env.QIANFAN_SECRET_KEY;
  delete env.npm_lifecycle_event; // not under npm: the launcher watches only its parent (this process)
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/run.mjs'), 'scripts/local.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start (${host}) did not start within 180 s:\n${output}`)), 180_000);
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      const found = /qfdata is running at (http:\/\/\S+)/.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start (${host}) exited with ${code}:\n${output}`));
    });
  });
  // Keep reading its output, so that a full pipe never blocks it.
  child.stdout!.resume();
  child.stderr!.resume();
  return { child, url, startMs: round(performance.now() - started, 0) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When `npm start` first runs its scheduler (`rate(1 minute)`: one period after start). */
const FIRST_SCHEDULE_MS = 60_000;
/** The load's first seconds, a warm-up after which the RSS must stay flat. */
const WARM_UP_S = 15;
/** At most this much above the RSS at the end of the warm-up, at any later sample. */
const GROWTH_TARGET = 1.1;

async function measureHost(host: 'inprocess' | 'offline', seconds: number) {
  progress(`local twin under load: npm start with QFDATA_HOST=${host}`);
  const dataDir = await mkdtemp(path.join(tmpdir(), `qfdata-bench-local-${host}-`));
  const startedAt = performance.now();
  const { child, url, startMs } = await startNpmStart(host, dataDir);
  const target: Credentials = { url, accessKeyId: LOCAL_ACCESS_KEY, secretAccessKey: LOCAL_SECRET_KEY };
  try {
    const pid = child.pid!;
    // Ten datasets for the account, so that the page is not empty.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 10; i++) {
      const body = JSON.stringify({ datasetName: `bench_local_${i}`, dataFormat: 'PromptResponse', storageType: 'sysStorage' });
      const headers = signer(target, '/v2/dataset', 'Action=CreateDataset', body)();
      const answer = await signedPost(agent, target, headers, '/v2/dataset?Action=CreateDataset', body);
      if (answer.status !== 200) throw new Error(`CreateDataset answered ${answer.status}: ${answer.text}`);
    }
    agent.destroy();
    await sleep(10_000);
    const idleAfterStartMb = treeRssMb(pid);
    // Idle as a twin left running is: after its scheduler's first run (a minute after start), which loads the
    // scheduler's instance; the load then meets the twin in its steady state.
    progress(`${host}: idle ${idleAfterStartMb} MB 10 s after start; waiting for the scheduler's first run`);
    await sleep(Math.max(0, startedAt + FIRST_SCHEDULE_MS + 10_000 - performance.now()));
    const idle = processTree(pid);
    const idleMb = treeRssMb(pid);
    progress(`${host}: idle ${idleMb} MB; 16 clients for ${seconds} s`);
    const samples: { s: number; mb: number }[] = [];
    const at16 = await describeLoad(target, { clients: 16, seconds, onTick: (s) => samples.push({ s, mb: treeRssMb(pid) }) });
    const third = Math.max(1, Math.floor(samples.length / 3));
    const mean = (xs: { mb: number }[]) => round(xs.reduce((a, x) => a + x.mb, 0) / Math.max(1, xs.length), 1);
    const middle = mean(samples.slice(third, samples.length - third));
    const last = mean(samples.slice(samples.length - third));
    // The warm-up: the first WARM_UP_S of the load (instances made, code optimized, the heap sized). After it, no sample
    // may exceed the one that ends it by more than the target.
    const warmedAt = samples.findIndex((x) => x.s >= WARM_UP_S);
    const endOfWarmUp = warmedAt >= 0 ? samples[warmedAt]!.mb : NaN;
    const maxAfterWarmUp = warmedAt >= 0 ? Math.max(...samples.slice(warmedAt + 1).map((x) => x.mb)) : NaN;
    progress(`${host}: ${at16.rps}/s p99 ${at16.ms.p99} ms; 64 clients for ${Math.round(seconds / 3)} s`);
    const at64 = await describeLoad(target, { clients: 64, seconds: Math.round(seconds / 3) });
    const peakMb = Math.max(...samples.map((x) => x.mb), treeRssMb(pid));
    await sleep(10_000);
    const afterMb = treeRssMb(pid);
    return {
      startMs,
      rssMb: {
        idleAfterStart: idleAfterStartMb,
        idle: idleMb,
        idleByProcess: idle.map((p) => `${p.name} ${p.rssMb}`),
        under16ClientsEvery5s: samples.map((x) => x.mb),
        endOfWarmUp,
        maxAfterWarmUp,
        growthAfterWarmUp: round(maxAfterWarmUp / endOfWarmUp),
        meanOfMiddleThird: middle,
        meanOfLastThird: last,
        lastThirdToMiddleThird: round(last / middle),
        peak: peakMb,
        idleAfterLoad: afterMb,
        idleAfterLoadByProcess: processTree(pid).map((p) => `${p.name} ${p.rssMb}`),
      },
      clients16: at16,
      clients64: at64,
      met: {
        idleRss: idleMb < 400,
        rps16: at16.rps >= 500,
        p99At16: at16.ms.p99 <= 100,
        growthAfterWarmUp: maxAfterWarmUp / endOfWarmUp <= GROWTH_TARGET,
      },
    };
  } finally {
    await stopNpmStart(child, dataDir);
  }
}

/** Stops an `npm start` of `startNpmStart` (SIGTERM, then SIGKILL after 20 s) and removes its data and build directories. */
export async function stopNpmStart(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(20_000)]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  await rm(dataDir, { recursive: true, force: true });
  await rm(path.join(ROOT, `.esbuild/bench-local-${path.basename(dataDir)}`), { recursive: true, force: true });
}

/** CPU time (user + system, ms) of a process tree (`pid` and its descendants, every thread), from /proc. */
export function treeCpuMs(pid: number): number {
  const tick = 10; // USER_HZ is 100 on Linux
  let ms = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = readFileSync(`/proc/${p.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ms += (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      /* gone meanwhile */
    }
  }
  return ms;
}

/**
 * The bench's `local` section: `npm start` with the in-process host and with serverless-offline, each idle and
 * under 16 and 64 clients of signed DescribeDatasets; `only` narrows it to one (`inprocess`, `offline`).
 */
export async function benchLocal(only: string[] = []) {
  const seconds = Number(process.env.QFDATA_BENCH_LOAD_SECONDS || 60);
  const wanted = (name: string) => only.length === 0 || only.includes(name);
  const report: Record<string, unknown> = {
    method: `npm start (all its processes), idle 10 s after start and 10 s after its scheduler's first run (70 s after start); signed DescribeDatasets (maxKeys 10, 10 datasets) from 16 clients for ${seconds} s, RSS every 5 s; then 64 clients for ${Math.round(seconds / 3)} s; then idle 10 s. Load generated on the same machine.`,
    targets: { idleRssMb: '< 400', rps16: '>= 500', p99Ms16: '<= 100', growthAfterWarmUp: `<= ${GROWTH_TARGET} (the largest RSS sample after the first ${WARM_UP_S} s of load / the sample at ${WARM_UP_S} s)` },
  };
  const inprocess = wanted('inprocess') ? await measureHost('inprocess', seconds) : undefined;
  const offline = wanted('offline') ? await measureHost('offline', seconds) : undefined;
  if (inprocess) report.inprocess = inprocess;
  if (offline) report.offline = offline;
  if (inprocess && offline) {
    report.ratios = {
      idleRss: round(inprocess.rssMb.idle / offline.rssMb.idle),
      peakRss: round(inprocess.rssMb.peak / offline.rssMb.peak),
      rps16: round(inprocess.clients16.rps / offline.clients16.rps),
      p99At16: round(inprocess.clients16.ms.p99 / offline.clients16.ms.p99),
      rps64: round(inprocess.clients64.rps / offline.clients64.rps),
      p99At64: round(inprocess.clients64.ms.p99 / offline.clients64.ms.p99),
      note: 'in-process host / serverless-offline, same run',
    };
  }
  return report;
}
