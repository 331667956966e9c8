/**
 * `node scripts/run.mjs scripts/root-key.ts --table <table> [--region <region>] [--endpoint <url>]`
 *
 * Creates a root access key in a deployed qfdata's table (the cloud counterpart of the local root key that
 * `npm start` seeds) and prints it once. Uses the AWS credentials of the shell.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DynamoMetadataStore } from '../shared/store/index.js';
import { ROOT_ACCOUNT } from './local.js';

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { table: { type: 'string' }, region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' }, endpoint: { type: 'string' } },
  });
  if (!values.table) throw new Error('--table is required (the deployed table is named qfdata-<stage>)');
  const store = new DynamoMetadataStore({ tableName: values.table, region: values.region, ...(values.endpoint ? { endpoint: values.endpoint } : {}) });
  const accessKeyId = `qf${randomBytes(10).toString('hex')}`;
  const secretAccessKey = randomBytes(24).toString('base64url');
  await store.putAccessKey({ accessKeyId, secretAccessKey, account: ROOT_ACCOUNT, enabled: true, createdAt: new Date().toISOString() });
  process.stdout.write(`QIANFAN_ACCESS_KEY=${accessKeyId}\nQIANFAN_SECRET_KEY=${secretAccessKey}\n(the secret is shown only now)\n`);
}
