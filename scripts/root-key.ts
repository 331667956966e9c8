/**
 * `npm run root-key -- --table <table> --kms-key-id <arn> [--account <name>] [--policy <policy>] [--region <region>]`
 * (cloud), or `npm run root-key -- --local [--account <name>]` (the local twin, while `npm start` runs: its data
 * directory and dynalite port are read exactly as `npm start` reads them, `QFDATA_DATA_DIR`, `QFDATA_PORT`,
 * `QFDATA_DYNAMO_PORT`, through `localSettings`; `--data-dir` / `--dynamo-endpoint` override them). `--help`
 * prints the usage.
 *
 * The operator's way in: makes an access key on an account (a new account is simply a name no key used before),
 * with the full-control policy unless told, and prints it once. Keys made with it then manage the account's other
 * keys over the API (`qfdata keys …`). The cloud form uses the shell's AWS credentials; the stack's output
 * `SecretsKeyArn` is the KMS key to pass.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AccessKeyService, FileKeySealer, POLICY_NAMES, isPolicyName, kmsSealer, secretsKeyFile } from '../shared/keys/index.js';
import { DynamoMetadataStore } from '../shared/store/index.js';
import { localSettings, ROOT_ACCOUNT } from './local.js';

export const USAGE = `usage: npm run root-key -- --local [options]                         (npm start's twin)
       npm run root-key -- --table <table> --kms-key-id <arn> [options]   (a deployment)

Makes an access key on an account (a new account is a name no key used before) and prints it once.

options:
  --account <name>          the account (default ${ROOT_ACCOUNT})
  --policy <policy>         ${POLICY_NAMES.join(' | ')} (default QianfanFullControlAccessPolicy)
  --description <text>      what the key is for
  --local                   npm start's store: QFDATA_DATA_DIR (./.data), dynalite on QFDATA_DYNAMO_PORT (QFDATA_PORT + 2, 8868)
  --data-dir <dir>          another local data directory (its secrets.key seals the secret)
  --dynamo-endpoint <url>   another dynalite or DynamoDB endpoint
  --table <table>           a deployed table (qfdata-<stage>), with --kms-key-id (the stack output SecretsKeyArn)
  --region <region>         the deployment's region (default AWS_REGION or us-east-1)
  -h, --help                this text
`;

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', short: 'h', default: false },
      local: { type: 'boolean', default: false },
      table: { type: 'string' },
      account: { type: 'string', default: ROOT_ACCOUNT },
      policy: { type: 'string', default: 'QianfanFullControlAccessPolicy' },
      description: { type: 'string', default: 'made by npm run root-key' },
      region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
      'kms-key-id': { type: 'string' },
      'data-dir': { type: 'string' },
      'dynamo-endpoint': { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!isPolicyName(values.policy)) throw new Error(`--policy must be one of ${POLICY_NAMES.join(', ')}`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(values.account)) throw new Error('--account must be 1–64 letters, digits, ".", "_" or "-"');
  let keys: AccessKeyService;
  if (values.local) {
    const local = localSettings();
    const store = new DynamoMetadataStore({ tableName: values.table ?? 'qfdata', region: 'us-east-1', endpoint: values['dynamo-endpoint'] ?? local.dynamoEndpoint });
    const keyFile = path.resolve(secretsKeyFile({ QFDATA_DATA_DIR: values['data-dir'] ?? local.dataDir, QFDATA_SECRETS_KEY_FILE: process.env.QFDATA_SECRETS_KEY_FILE }));
    keys = new AccessKeyService({ store, sealer: FileKeySealer.fromFile(keyFile) });
  } else {
    if (!values.table) throw new Error(`--table is required (the deployed table is named qfdata-<stage>), or --local for the local twin\n${USAGE}`);
    if (!values['kms-key-id']) throw new Error('--kms-key-id is required: the stack output SecretsKeyArn');
    const store = new DynamoMetadataStore({ tableName: values.table, region: values.region, ...(values['dynamo-endpoint'] ? { endpoint: values['dynamo-endpoint'] } : {}) });
    keys = new AccessKeyService({ store, sealer: kmsSealer(values['kms-key-id'], values.region) });
  }
  const issued = await keys.issueForOperator({ account: values.account, policy: values.policy, description: values.description });
  process.stdout.write(
    `account ${issued.record.account}, policy ${issued.record.policy}\nQIANFAN_ACCESS_KEY=${issued.record.accessKeyId}\nQIANFAN_SECRET_KEY=${issued.secretAccessKey}\n(the secret is shown only now)\n`,
  );
}
