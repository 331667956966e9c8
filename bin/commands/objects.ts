/**
 * Where `qfdata cp` and `qfdata ls` find objects: always through the object port (`shared/objects/port.ts`), never
 * by writing a data directory, so they work from any directory, against a running twin or a deployment.
 *
 * Which store, in this order (the first that applies):
 * 1. `QFDATA_OBJECT_ENDPOINT=<url>`: a BOS API at that URL (the twin's object endpoint, or Baidu's BOS such as
 *    `https://bj.bcebos.com`), signed with `QIANFAN_ACCESS_KEY` / `QIANFAN_SECRET_KEY` (bce-auth-v1);
 * 2. `QFDATA_OBJECT_STORE=s3`: S3 or an S3-compatible store (a deployed qfdata's buckets), with the AWS SDK's
 *    standard credential chain (`AWS_PROFILE`, `AWS_ACCESS_KEY_ID`, SSO, instance roles…), `AWS_REGION`,
 *    `QFDATA_S3_ENDPOINT` and `QFDATA_S3_FORCE_PATH_STYLE` as the functions read them;
 * 3. otherwise the local twin the API URL names: `GET <QIANFAN_CONSOLE_API_BASE_URL>/_qfdata/endpoints` tells
 *    where its object endpoint is (`npm start` serves it on its download port), signed with the same keys.
 */
import { BosHttpStore } from '../../shared/bos/client.js';
import { createObjectStore, type ObjectStore } from '../../shared/objects/index.js';
import { usage } from './shared.js';

export interface Objects {
  store: ObjectStore;
  /** Where the objects are, for messages: the endpoint's URL, or `s3`. */
  where: string;
}

function credentials(): { accessKeyId: string; secretAccessKey: string } {
  const accessKeyId = process.env.QIANFAN_ACCESS_KEY ?? '';
  const secretAccessKey = process.env.QIANFAN_SECRET_KEY ?? '';
  if (!accessKeyId || !secretAccessKey) throw usage('credentials missing: set QIANFAN_ACCESS_KEY and QIANFAN_SECRET_KEY (`npm start` prints the local ones).');
  return { accessKeyId, secretAccessKey };
}

/** The twin's object endpoint, asked of the API at `base`. */
async function discover(base: string): Promise<string> {
  const url = `${base.replace(/\/+$/, '')}/_qfdata/endpoints`;
  let answer: Response;
  try {
    answer = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw Object.assign(new Error(`cannot reach ${base} (${cause}) to find its object endpoint: is qfdata running there? \`npm start\` serves http://127.0.0.1:8866.`), { name: 'BosConnectionError' });
  }
  const body = answer.ok ? ((await answer.json().catch(() => ({}))) as { objects?: unknown }) : {};
  if (typeof body.objects !== 'string') {
    throw usage(
      `${base} does not tell where its objects are (it is not a local twin started by \`npm start\`): set QFDATA_OBJECT_ENDPOINT to a BOS endpoint, or QFDATA_OBJECT_STORE=s3 for a deployed qfdata's S3 buckets.`,
    );
  }
  return body.objects;
}

/** The object store the environment names (see the module comment). */
export async function objectsFromEnv(): Promise<Objects> {
  const env = process.env;
  if (env.QFDATA_OBJECT_ENDPOINT) {
    return { store: new BosHttpStore({ endpoint: env.QFDATA_OBJECT_ENDPOINT, ...credentials() }), where: env.QFDATA_OBJECT_ENDPOINT };
  }
  if (env.QFDATA_OBJECT_STORE === 's3') {
    const store = createObjectStore({
      kind: 's3',
      region: env.AWS_REGION || 'us-east-1',
      ...(env.QFDATA_S3_ENDPOINT ? { endpoint: env.QFDATA_S3_ENDPOINT } : {}),
      forcePathStyle: env.QFDATA_S3_FORCE_PATH_STYLE === 'true' || env.QFDATA_S3_FORCE_PATH_STYLE === '1',
    });
    return { store, where: 's3' };
  }
  if (env.QFDATA_OBJECT_STORE && env.QFDATA_OBJECT_STORE !== 'bos') throw usage(`QFDATA_OBJECT_STORE must be s3 (or unset), got ${JSON.stringify(env.QFDATA_OBJECT_STORE)}`);
  const base = env.QIANFAN_CONSOLE_API_BASE_URL;
  if (!base) {
    throw usage('cp and ls need to know where objects live: set QIANFAN_CONSOLE_API_BASE_URL to a local twin (`npm start` serves http://127.0.0.1:8866), QFDATA_OBJECT_ENDPOINT to a BOS endpoint, or QFDATA_OBJECT_STORE=s3.');
  }
  const keys = credentials();
  const endpoint = await discover(base);
  return { store: new BosHttpStore({ endpoint, ...keys }), where: endpoint };
}
