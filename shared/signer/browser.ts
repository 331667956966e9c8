/**
 * `bce-auth-v1` for the browser (the web console): the same signing as `./index.ts` `sign`, with the HMAC done by
 * WebCrypto (`crypto.subtle`, asynchronous) instead of `node:crypto`. Everything else — the canonical request, the
 * prefix, the signedHeaders field, the Authorization value — comes from `./canonical.ts`, which both signers share.
 *
 * No Node built-ins: it runs wherever `globalThis.crypto.subtle` and `TextEncoder` exist (browsers in a secure
 * context — https or http://127.0.0.1 / localhost — and Node 20+).
 */
import { InternalError } from '../errors.js';
import { planSignature, signResultOf, utf8, type SignInput, type SignResult } from './canonical.js';

export { formatBceTimestamp, uriEncode, type QueryInput, type SignInput, type SignResult } from './canonical.js';

const HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

function hex(bytes: ArrayBuffer): string {
  let out = '';
  for (const b of new Uint8Array(bytes)) out += HEX[b];
  return out;
}

type Subtle = NonNullable<typeof globalThis.crypto>['subtle'];

function subtle(): Subtle {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new InternalError('signInBrowser: WebCrypto is not available (the page must be served over https or from localhost)');
  return s;
}

/** Lowercase hex of HMAC-SHA256(key = UTF-8 of `key`, message = UTF-8 of `message`). */
export async function hmacHexWebCrypto(key: string, message: string): Promise<string> {
  const s = subtle();
  const cryptoKey = await s.importKey('raw', utf8(key), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return hex(await s.sign('HMAC', cryptoKey, utf8(message)));
}

/**
 * Signs a request with `bce-auth-v1` through WebCrypto: the same input and result as `sign` of `./index.ts`, as a
 * promise.
 *
 * @throws InternalError (as a rejection) on a programming error — no `host`, an access key containing `/`, a bad
 *   expiration or timestamp — or when WebCrypto is missing.
 */
export async function signInBrowser(input: SignInput): Promise<SignResult> {
  const plan = planSignature(input);
  const signingKey = await hmacHexWebCrypto(input.secretAccessKey, plan.prefix);
  return signResultOf(plan, signingKey, await hmacHexWebCrypto(signingKey, plan.canonicalRequest));
}
