/**
 * `npm run buckets -- <command> …`: the operator's say over who may use which bucket, beside `npm run root-key`.
 * Buckets belong to accounts (shared/datasets/buckets.ts): the account that creates one owns it, its owner grants
 * it to others, and a bucket nobody claimed belongs to the root account. The operator may do all of that for any
 * account, with direct access to the store:
 *
 *   npm run buckets -- create <bucket> --owner <account>     make it (locally) and record its owner
 *   npm run buckets -- grant <bucket> --account <account>    let another account use it
 *   npm run buckets -- revoke <bucket> --account <account>   take that back
 *   npm run buckets -- list [--account <account>]            who may use what
 *
 * `--local` (the default) works on `npm start`'s store and data directory (QFDATA_PORT / QFDATA_DYNAMO_PORT and
 * QFDATA_DATA_DIR as `npm start` reads them); `--table <table> [--region <region>]` on a deployed table (the bucket
 * must then be one the stack was deployed to use: see the README's deploy section).
 */
import { parseArgs } from 'node:util';
import { ACCOUNT_NAME, BucketService } from '../shared/datasets/buckets.js';
import { bucketNameProblem, createObjectStore } from '../shared/objects/index.js';
import { DynamoMetadataStore } from '../shared/store/index.js';

const USAGE = `usage: npm run buckets -- <create|grant|revoke|list> [bucket] [options]

  create <bucket> --owner <account>     make the bucket (locally) and record its owner
  grant <bucket> --account <account>    let the account use the bucket
  revoke <bucket> --account <account>   take the grant back
  list [--account <account>]            the buckets an account may use (default: the root account)

options:
  --local                 npm start's stack (default); QFDATA_DYNAMO_PORT or QFDATA_PORT + 2, QFDATA_DATA_DIR
  --table <name>          a deployed table instead (with --region)
  --platform-bucket <b>   the platform bucket (default QFDATA_PLATFORM_BUCKET or qfdata)
  --root-account <a>      the account that owns unclaimed buckets (default QFDATA_ROOT_ACCOUNT or root)
`;

export async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      local: { type: 'boolean', default: false },
      table: { type: 'string' },
      region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
      owner: { type: 'string' },
      account: { type: 'string' },
      'platform-bucket': { type: 'string', default: process.env.QFDATA_PLATFORM_BUCKET ?? 'qfdata' },
      'root-account': { type: 'string', default: process.env.QFDATA_ROOT_ACCOUNT ?? 'root' },
      'data-dir': { type: 'string', default: process.env.QFDATA_DATA_DIR ?? '.data' },
      'dynamo-endpoint': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, bucket] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return;
  }
  const account = (name: string, value: string | undefined) => {
    if (!value || !ACCOUNT_NAME.test(value)) throw new Error(`${name} must be an account name (1-64 letters, digits, ".", "_" or "-")\n${USAGE}`);
    return value;
  };
  const needBucket = () => {
    const problem = bucket === undefined ? 'is missing' : bucketNameProblem(bucket);
    if (problem) throw new Error(`the bucket ${problem}\n${USAGE}`);
    return bucket!;
  };
  const cloud = values.table !== undefined && !values.local;
  const port = Number(process.env.QFDATA_PORT || 8866);
  const store = new DynamoMetadataStore({
    tableName: values.table ?? 'qfdata',
    region: cloud ? values.region : 'us-east-1',
    ...(values['dynamo-endpoint'] ? { endpoint: values['dynamo-endpoint'] } : cloud ? {} : { endpoint: `http://127.0.0.1:${Number(process.env.QFDATA_DYNAMO_PORT || port + 2)}` }),
  });
  const objects = cloud ? createObjectStore({ kind: 's3', region: values.region }) : createObjectStore({ kind: 'fs', dataDir: values['data-dir'] });
  const buckets = new BucketService({
    store,
    objects,
    settings: { platformBucket: values['platform-bucket'], rootAccount: values['root-account'], canCreate: !cloud },
  });
  const operator = { account: values['root-account'] };
  switch (command) {
    case 'create': {
      const view = await buckets.createForOperator(needBucket(), account('--owner', values.owner));
      process.stdout.write(`bucket ${view.bucket} is owned by ${values.owner}\n`);
      return;
    }
    case 'grant':
      await buckets.grant(operator, needBucket(), account('--account', values.account), { operator: true });
      process.stdout.write(`bucket ${bucket} is granted to ${values.account}\n`);
      return;
    case 'revoke':
      await buckets.revoke(operator, needBucket(), account('--account', values.account), { operator: true });
      process.stdout.write(`bucket ${bucket} is no longer granted to ${values.account}\n`);
      return;
    case 'list': {
      const views = await buckets.list({ account: values.account ? account('--account', values.account) : operator.account });
      if (views.length === 0) process.stdout.write('No buckets.\n');
      for (const v of views) process.stdout.write(`${v.bucket}\t${v.role}${v.grants?.length ? `\tgranted to ${v.grants.join(', ')}` : ''}\n`);
      return;
    }
    default:
      throw new Error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  }
}
