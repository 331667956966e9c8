/**
 * What the local gateway's extra hop costs (`npm run bench -- gateway`): one local stack on free ports and a
 * temporary data directory, then signed DescribeDatasets through the gateway and as many straight to
 * serverless-offline behind it, alternated one by one so that both see the same machine, each on one keep-alive
 * connection.
 */
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sign } from '../shared/signer/index.js';
import { ROOT, startStack, type Stack } from '../scripts/local.js';
import { progress, round, summarize } from './stats.js';

const WARM_UP = 50;

/** One signed `POST /v2/dataset?Action=DescribeDatasets` to `url`; resolves with its duration in ms. */
function timedDescribe(agent: Agent, url: string, stack: Stack): Promise<number> {
  const target = new URL(url);
  const body = '{"maxKeys":10}';
  const headers: Record<string, string> = {
    host: target.host,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-bce-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  headers.authorization = sign({ method: 'POST', path: '/v2/dataset', query: 'Action=DescribeDatasets', headers, accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey }).authorization;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: target.hostname, port: target.port, method: 'POST', path: '/v2/dataset?Action=DescribeDatasets', headers, agent, setHost: false }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode} from ${url}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The bench's `gateway` section: `count` signed DescribeDatasets through the gateway and as many straight to
 * serverless-offline, alternated; p50 / p99 of both (ms) and the gateway's p50 as a ratio to the direct one.
 */
export async function benchGateway(count = 500) {
  progress('gateway overhead');
  const dataDir = await mkdtemp(path.join(tmpdir(), 'qfdata-overhead-'));
  const buildDir = `.esbuild/overhead-${path.basename(dataDir)}`;
  const stack = await startStack({ dataDir, buildDir, env: { LOG_LEVEL: 'warn' } });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const via = { gateway: [] as number[], direct: [] as number[] };
    for (let i = 0; i < WARM_UP; i++) {
      await timedDescribe(agent, stack.url, stack);
      await timedDescribe(agent, stack.offlineUrl, stack);
    }
    for (let i = 0; i < count; i++) {
      via.gateway.push(await timedDescribe(agent, stack.url, stack));
      via.direct.push(await timedDescribe(agent, stack.offlineUrl, stack));
    }
    const gateway = summarize(via.gateway);
    const direct = summarize(via.direct);
    return {
      unit: 'ms',
      method: `${count} signed DescribeDatasets each, alternated, one keep-alive connection per endpoint (${WARM_UP} warm-up each)`,
      gateway,
      direct,
      p50Ratio: round(gateway.p50 / direct.p50),
    };
  } finally {
    agent.destroy();
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
    await rm(path.join(ROOT, buildDir), { recursive: true, force: true });
  }
}
