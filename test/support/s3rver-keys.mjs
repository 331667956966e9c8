/**
 * Preloaded into the s3rver child (`node --import ./s3rver-keys.mjs s3rver.mjs …`) to give its one account more
 * access keys than its fixed S3RVER/S3RVER: `S3RVER_EXTRA_KEYS=<id>:<secret>[,<id>:<secret>…]`. The S3 store's
 * tests use it to talk to s3rver with non-AWS-looking keys (a BOS key pair); s3rver refuses any key id it does not
 * know with InvalidAccessKeyId, so a request signed with the wrong key fails.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AWSAccount = require('s3rver/lib/models/account.js');

for (const pair of (process.env.S3RVER_EXTRA_KEYS ?? '').split(',').filter(Boolean)) {
  const at = pair.indexOf(':');
  if (at <= 0) throw new Error(`S3RVER_EXTRA_KEYS: "${pair}" is not <id>:<secret>`);
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(pair.slice(0, at), pair.slice(at + 1));
}
