/**
 * `npm run root-key -- --table <table> --kms-key-id <arn> [--account <name>] [--policy <policy>] [--region <region>]`
 * (cloud), or `npm run root-key -- --local [--account <name>] [--data-dir .data]` (the local twin, while or after
 * `npm start` runs; `--dynamo-endpoint` when it is not on the default port).
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
import { ROOT_ACCOUNT } from './local.js';

const LOCAL_DYNAMO = 'http://127.0.0.1:8868';

export async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      local: { type: 'boolean', default: false },
      table: { type: 'string' },
      account: { type: 'string', default: ROOT_ACCOUNT },
      policy: { type: 'string', default: 'QianfanFullControlAccessPolicy' },
      description: { type: 'string', default: 'made by npm run root-key' },
      region: { type: 'string', default: process.env.AWS_REGION ?? 'us-east-1' },
      'kms-key-id': { type: 'string' },
      'data-dir': { type: 'string', default: process.env.QFDATA_DATA_DIR ?? '.data' },
      'dynamo-endpoint': { type: 'string' },
    },
  });
  if (!isPolicyName(values.policy)) throw new Error(`--policy must be one of ${POLICY_NAMES.join(', ')}`);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(values.account)) throw new Error('--account must be 1–64 letters, digits, ".", "_" or "-"');
  let keys: AccessKeyService;
  if (values.local) {
    const store = new DynamoMetadataStore({ tableName: values.table ?? 'qfdata', region: 'us-east-1', endpoint: values['dynamo-endpoint'] ?? LOCAL_DYNAMO });
    const keyFile = path.resolve(secretsKeyFile({ QFDATA_DATA_DIR: values['data-dir'], QFDATA_SECRETS_KEY_FILE: process.env.QFDATA_SECRETS_KEY_FILE }));
    keys = new AccessKeyService({ store, sealer: FileKeySealer.fromFile(keyFile) });
  } else {
    if (!values.table) throw new Error('--table is required (the deployed table is named qfdata-<stage>), or --local for the local twin');
    if (!values['kms-key-id']) throw new Error('--kms-key-id is required: the stack output SecretsKeyArn');
    const store = new DynamoMetadataStore({ tableName: values.table, region: values.region, ...(values['dynamo-endpoint'] ? { endpoint: values['dynamo-endpoint'] } : {}) });
    keys = new AccessKeyService({ store, sealer: kmsSealer(values['kms-key-id'], values.region) });
  }
  const issued = await keys.issueForOperator({ account: values.account, policy: values.policy, description: values.description });
  process.stdout.write(
    `account ${issued.record.account}, policy ${issued.record.policy}\nQIANFAN_ACCESS_KEY=${issued.record.accessKeyId}\nQIANFAN_SECRET_KEY=${issued.secretAccessKey}\n(the secret is shown only now)\n`,
  );
}
