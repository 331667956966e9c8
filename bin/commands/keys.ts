/**
 * `qfdata keys create|list|disable|enable|rotate|delete`: the account's access keys, through the access-key
 * extension (a key with QianfanFullControlAccessPolicy signs them). A created or rotated key's secret is printed
 * once, with the two lines that put the key into a shell.
 */
import { Option, type Command } from 'commander';
import type { IssuedAccessKey } from '../../shared/client/index.js';
import { POLICY_NAMES } from '../../shared/keys/policies.js';
import { client, formatRecord, formatTable, print, type Io } from './shared.js';

/**
 * A key just created or rotated: the record, secret included, then (readable output) the note that the secret is shown
 * only now and the two lines that put the key into a shell. With --json the note goes to stderr, so stdout stays JSON.
 */
function printIssuedKey(io: Io, key: IssuedAccessKey, extra = ''): void {
  const note = 'The secret access key is shown only now: store it safely, it cannot be read again.\n';
  print(io, key, () => `${formatRecord(key)}\n${note}${extra}export QIANFAN_ACCESS_KEY=${key.accessKeyId}\nexport QIANFAN_SECRET_KEY=${key.secretAccessKey}\n`);
  if (io.json) io.err(note);
}

/** Registers `keys` and its subcommands on `program`. */
export function registerKeys(program: Command, io: Io): void {
  const keys = program.command('keys').description("manage the account's access keys (needs a key with QianfanFullControlAccessPolicy)");
  keys
    .command('create')
    .description('create an access key; its secret is shown only in this answer')
    .addOption(new Option('--policy <policy>', 'what the key may do (the server\'s default: QianfanFullControlAccessPolicy)').choices(POLICY_NAMES))
    .option('--description <d>', 'what the key is for')
    .action(async (opts: { policy?: (typeof POLICY_NAMES)[number]; description?: string }) => {
      const key = await client().keys.createAccessKey({
        ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
        ...(opts.description !== undefined ? { description: opts.description } : {}),
      });
      printIssuedKey(io, key);
    });
  keys
    .command('list')
    .description("list the account's access keys, enabled or not (never their secrets)")
    .action(async () => {
      const result = await client().keys.describeAccessKeys({});
      print(io, result, () =>
        result.accessKeys.length ? formatTable(result.accessKeys, ['accessKeyId', 'policy', 'enabled', 'createTime', 'rotatedTo', 'description']) : 'No access keys.\n',
      );
    });
  keys
    .command('disable <accessKeyId>')
    .description('stop a key from signing (not the key in use); functions may accept it for up to QFDATA_KEY_CACHE_SECONDS more')
    .action(async (accessKeyId: string) => {
      const key = await client().keys.disableAccessKey({ accessKeyId });
      print(io, key, () => formatRecord(key));
    });
  keys
    .command('enable <accessKeyId>')
    .description('let a disabled key sign again')
    .action(async (accessKeyId: string) => {
      const key = await client().keys.enableAccessKey({ accessKeyId });
      print(io, key, () => formatRecord(key));
    });
  keys
    .command('rotate <accessKeyId>')
    .description('make a new key replacing this one (same policy and description); the old key works until disabled')
    .action(async (accessKeyId: string) => {
      const key = await client().keys.rotateAccessKey({ accessKeyId });
      printIssuedKey(io, key, `The old key ${accessKeyId} keeps working until you disable it: qfdata keys disable ${accessKeyId}\n`);
    });
  keys
    .command('delete <accessKeyId>')
    .description('delete a disabled key for good')
    .action(async (accessKeyId: string) => {
      const result = await client().keys.deleteAccessKey({ accessKeyId });
      print(io, result, () => `Deleted ${accessKeyId}.\n`);
    });
}
