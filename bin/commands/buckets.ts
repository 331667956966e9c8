/**
 * `qfdata buckets create|ls|grant|revoke`: the account's buckets, through the bucket extension (`/v2/bucket`,
 * `client.buckets`). A bucket belongs to the account that creates it; its owner grants it to other accounts (a key
 * with QianfanFullControlAccessPolicy) and takes grants back.
 */
import type { Command } from 'commander';
import { client, formatTable, print, type Io } from './shared.js';

/** Registers `buckets` and its subcommands on `program`. */
export function registerBuckets(program: Command, io: Io): void {
  const buckets = program.command('buckets').description("create, list and share the account's buckets");
  buckets
    .command('create <bucket>')
    .description('create a bucket owned by your account (locally it is made in the twin)')
    .action(async (bucket: string) => {
      const view = await client().buckets.createBucket({ bucket });
      print(io, view, () => `Created bucket ${view.bucket} (owner: your account). Copy files into it: qfdata cp <file> bos:/${view.bucket}/\n`);
    });
  buckets
    .command('ls')
    .alias('list')
    .description('list the buckets your account owns or was granted')
    .action(async () => {
      const result = await client().buckets.describeBuckets({});
      print(io, result, () =>
        result.buckets.length ? formatTable(result.buckets.map((b) => ({ bucket: b.bucket, role: b.role, grants: (b.grants ?? []).join(', ') })), ['bucket', 'role', 'grants']) : 'No buckets.\n',
      );
    });
  buckets
    .command('grant <bucket> <account>')
    .description('let another account use your bucket')
    .action(async (bucket: string, account: string) => {
      const result = await client().buckets.grantBucket({ bucket, account });
      print(io, { bucket, account, granted: result }, () => `Granted ${bucket} to ${account}.\n`);
    });
  buckets
    .command('revoke <bucket> <account>')
    .description("take back another account's grant on your bucket")
    .action(async (bucket: string, account: string) => {
      const result = await client().buckets.revokeBucket({ bucket, account });
      print(io, { bucket, account, revoked: result }, () => `Revoked ${account}'s grant on ${bucket}.\n`);
    });
}
