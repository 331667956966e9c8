/**
 * `npm run bench`: prints one JSON document of measurements, each beside a baseline measured in the same run.
 *
 * - chain: the microseconds the HTTP chain (request id, bce-auth-v1 verify, JSON parse, zod validation, envelope,
 *   logging) adds to the bare operation, p50 and p99, for V1 create-input validation and V2 DescribeDatasets.
 * - coldRequire: the median `import()` time of each function bundle (built and zipped as `sls package` does, with
 *   serverless.yml's esbuild options) in a fresh Node process, beside an empty bundle's; its bytes and zip bytes.
 * - firstRequest: import, then first and second request, of a few API functions in a fresh Node process against
 *   dynalite (splitting and lazy clients move work from the import to the first call: this says what a user's
 *   first call costs) (`./cold.ts`).
 * - describeDatasets: page latency at 1,000 and at 20,000 datasets in dynalite (a page should cost the same).
 * - imports: import throughput (JSONL, xlsx) against the bare readers, peak RSS of a 1 GB import, and
 *   CreateImportTask → ImportFinished through the local stack (`./imports.ts`).
 * - exports: export throughput against bare zlib deflate of the same shard bytes, and the peak RSS of exports of
 *   ~20 MB and ~200 MB versions (`./exports.ts`).
 * - samples: a page of a 1,000,000-sample version at offset 900,000 against offset 0, and an annotate in it against
 *   one in a 1,000-sample version (the entity API must not scan or rewrite a version) (`./samples.ts`).
 * - events: the time from a task's end to its event reaching a local subscriber under the local stack (`./events.ts`).
 * - gateway: what the local gateway's extra hop costs, through it against straight to serverless-offline
 *   (`./gateway.ts`).
 * - local: `npm start` itself, with the in-process host against serverless-offline: RSS of all its processes idle,
 *   under 60 s of 16 clients (flat after warm-up?) and after; DescribeDatasets per second and p50 / p99 at 16 and 64
 *   clients (`./local.ts`; `local.inprocess` or `local.offline` alone).
 * - deletes: a DeleteDatasetVersion of a 20,000-object version against one of an empty version (the request only
 *   hides; target ≤ 2), and the background purge of those objects in 2-second runs (`./deletes.ts`).
 * - fanout: one import of 16 files with 4 workers against 1 worker, through the local stack under each host
 *   (target ≥ 1.5) (`./fanout.ts`).
 */
import { ensureTable, startDynamo } from '../scripts/local.js';
import type { Operation } from '../shared/http/index.js';
import { benchColdRequire, benchFirstRequest } from './cold.js';
import { benchExports } from './exports.js';
import { benchGateway } from './gateway.js';
import { benchDeletes } from './deletes.js';
import { benchEvents } from './events.js';
import { benchFanout } from './fanout.js';
import { benchImports } from './imports.js';
import { benchLocal } from './local.js';
import { benchSamples } from './samples.js';
import { progress, round, summarize, timeEach } from './stats.js';

async function benchChain() {
  progress('chain overhead');
  const { httpHandler } = await import('../shared/http/index.js');
  const { create } = await import('../functions/v1/create.js');
  const { describeDatasets } = await import('../functions/v2/describeDatasets.js');
  const { signedEvent, lambdaContext, resolvedKey } = await import('../test/support/events.js');
  const key = resolvedKey({ account: 'bench' });
  const auth = { lookupKey: async () => key };

  // The bare operations do no I/O here, so the measurement isolates the chain: V1 create with a stubbed service
  // would measure the service; instead both sides run the same no-I/O operation body.
  const results: Record<string, unknown> = {};
  for (const [label, op, eventOf] of [
    ['v1.create', create, () => signedEvent({ path: '/wenxinworkshop/dataset/create', body: JSON.stringify({ name: 'bench', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' }) })],
    ['v2.DescribeDatasets', describeDatasets, () => signedEvent({ path: '/v2/dataset', query: 'Action=DescribeDatasets', body: JSON.stringify({ marker: '', maxKeys: 10, pageReverse: false, filter: { dataFormatList: ['PromptResponse'] } }) })],
  ] as const) {
    const bare: Operation = { api: op.api, name: op.name, needs: op.needs, input: op.input, run: async (input: unknown) => ({ echoed: input !== undefined }) };
    const wrapped = httpHandler(bare, { auth });
    const ctx = lambdaContext();
    const N = 20_000;
    const events = Array.from({ length: 200 }, eventOf);
    const body = JSON.parse(String(events[0]!.body));
    const input = op.input.parse(body);
    const opCtx = { caller: { account: key.record.account, accessKeyId: key.record.accessKeyId }, requestId: 'bench' };
    // The chain must take its success path, or the timing below measures an error answer.
    const probe = await wrapped(structuredClone(events[0]!), ctx);
    if (probe.statusCode !== 200 || !String(probe.body).includes('"echoed":true')) throw new Error(`chain bench: ${label} answered ${probe.statusCode} ${String(probe.body)}`);
    const bareTimes = await timeEach(N, 2000, () => bare.run(input, opCtx));
    const chainTimes = await timeEach(N, 2000, (i) => wrapped(structuredClone(events[i % events.length]!), ctx));
    const cloneTimes = await timeEach(N, 2000, (i) => structuredClone(events[i % events.length]!));
    const b = summarize(bareTimes);
    const c = summarize(chainTimes);
    const k = summarize(cloneTimes);
    results[label] = {
      bareUs: b,
      chainUs: c,
      addedUs: { p50: round(c.p50 - b.p50 - k.p50), p99: round(c.p99 - b.p99 - k.p50) },
      note: 'bare = the operation body on already-validated input; chain = the full Middy chain around the same body (verify, JSON parse, zod, envelope, log line); the per-call event clone is subtracted',
    };
  }
  return results;
}

async function benchDescribeDatasets(table: string, endpoint: string) {
  progress('DescribeDatasets at 1,000 and 20,000 datasets');
  {
    const { DynamoMetadataStore } = await import('../shared/store/index.js');
    const { describeDatasets } = await import('../functions/v2/describeDatasets.js');
    const { httpHandler } = await import('../shared/http/index.js');
    const { signedEvent, lambdaContext, resolvedKey } = await import('../test/support/events.js');
    const { newDatasetInput } = await import('../test/support/records.js');
    const store = new DynamoMetadataStore({ tableName: table, region: 'us-east-1', endpoint });
    const ctx = lambdaContext();
    const formats = ['PromptResponse', 'Text', 'Prompt', 'PromptImage'] as const;

    /** Seeds `count` datasets into `account` with 16 concurrent writers; returns their ids in order. */
    async function seed(account: string, count: number): Promise<string[]> {
      progress(`seeding dynalite: ${count} datasets in ${account}`);
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          for (let i = next++; i < count; i = next++) {
            const { dataset } = await store.createDataset(newDatasetInput(account, `dataset-${i}`, formats[i % formats.length]));
            ids.push(dataset.datasetId);
          }
        }),
      );
      return ids.sort();
    }
    const sizes = { at1000: await seed('bench-1k', 1000), at20000: await seed('bench-20k', 20_000) };
    const cases = (ids: string[]) => ({
      firstPage: { maxKeys: 10 },
      middlePage: { marker: ids[Math.floor(ids.length / 2)]!, maxKeys: 10 },
      reversedPage: { maxKeys: 100, pageReverse: true },
      formatFilter: { maxKeys: 10, filter: { dataFormatList: ['Text', 'Prompt'] } },
    });
    const handlers = {
      at1000: httpHandler(describeDatasets, { auth: { lookupKey: async () => resolvedKey({ account: 'bench-1k' }) } }),
      at20000: httpHandler(describeDatasets, { auth: { lookupKey: async () => resolvedKey({ account: 'bench-20k' }) } }),
    };
    // Interleaved rounds, so that the machine's noise falls on both sizes alike.
    const samples: Record<string, Record<string, number[]>> = { at1000: {}, at20000: {} };
    for (let round = 0; round < 10; round++) {
      for (const size of ['at1000', 'at20000'] as const) {
        for (const [label, body] of Object.entries(cases(sizes[size]))) {
          const event = signedEvent({ path: '/v2/dataset', query: 'Action=DescribeDatasets', body: JSON.stringify(body) });
          const times = await timeEach(20, round === 0 ? 5 : 0, async () => {
            const r = await handlers[size](structuredClone(event), ctx);
            if (r.statusCode !== 200) throw new Error(`DescribeDatasets answered ${r.statusCode}: ${r.body}`);
          });
          (samples[size]![label] ??= []).push(...times.map((us) => us / 1000));
        }
      }
    }
    const summarizeAll = (bySize: Record<string, number[]>) => Object.fromEntries(Object.entries(bySize).map(([label, xs]) => [label, summarize(xs)]));
    const small = summarizeAll(samples.at1000!);
    const large = summarizeAll(samples.at20000!);
    const ratio: Record<string, number> = {};
    for (const label of Object.keys(small)) ratio[label] = round(large[label]!.p50 / small[label]!.p50);
    return {
      unit: 'ms',
      method: 'two accounts in one table (1,000 and 20,000 datasets), measured in 10 interleaved rounds of 20 calls per case',
      at1000: small,
      at20000: large,
      p50Ratio20000to1000: ratio,
    };
  }
}

/** `npm run bench [-- section…]`: every section, or only the named ones (chain, coldRequire, firstRequest, describeDatasets, imports, exports, samples, events, gateway, local, deletes, fanout). */
export async function main(args: string[] = []): Promise<void> {
  const started = Date.now();
  const wanted = (name: string) => args.length === 0 || args.includes(name);
  // Configure before any module reads the configuration (it is parsed once, at first use).
  const dynamo = await startDynamo({});
  const table = 'bench';
  await ensureTable(dynamo.endpoint, table);
  process.env.QFDATA_DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.QFDATA_TABLE = table;
  process.env.LOG_LEVEL = 'silent';
  const report: Record<string, unknown> = { machine: { node: process.version, cpus: (await import('node:os')).cpus().length } };
  try {
    if (wanted('chain')) report.chain = await benchChain();
    if (wanted('coldRequire')) report.coldRequire = await benchColdRequire();
    if (wanted('firstRequest')) report.firstRequest = await benchFirstRequest(table, dynamo.endpoint);
    if (wanted('describeDatasets')) report.describeDatasets = await benchDescribeDatasets(table, dynamo.endpoint);
  } finally {
    await dynamo.close();
  }
  if (wanted('imports')) report.imports = await benchImports(args.filter((a) => a.startsWith('imports.')).map((a) => a.slice('imports.'.length)));
  if (wanted('exports')) report.exports = await benchExports();
  if (wanted('samples')) report.samples = await benchSamples();
  if (wanted('events')) report.events = await benchEvents();
  if (wanted('gateway')) report.gateway = await benchGateway();
  if (wanted('local') || args.some((a) => a.startsWith('local.'))) report.local = await benchLocal(args.filter((a) => a.startsWith('local.')).map((a) => a.slice('local.'.length)));
  if (wanted('deletes')) report.deletes = await benchDeletes();
  if (wanted('fanout')) report.fanout = await benchFanout();
  report.seconds = round((Date.now() - started) / 1000, 1);
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}
