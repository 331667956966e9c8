/**
 * The one signature-lookup adapter: how the access key behind a `bce-auth-v1` signature is found and admitted.
 * The API's IAM layer (`shared/http/authenticate.ts`) and the local download server (`scripts/download-server.ts`)
 * both verify through {@link verifyWithKeys}, so they treat a key the same way:
 *
 * - an unknown key is `InvalidAccessKeyId` (403), raised by the signer when the lookup finds nothing;
 * - a disabled key is `AccessDenied` (403), once its signature has been checked (so a wrong secret on a disabled
 *   key is still `SignatureDoesNotMatch`, at both);
 * - an id no key can have (longer than {@link MAX_ACCESS_KEY_ID_LENGTH}) is unknown without a read, so hostile
 *   input never reaches the store (DynamoDB refuses keys past its size limit with an error, which would be a 500).
 *
 * The download server needs no HTTP-chain code for this: only the signer, the key service and this file.
 */
import { AccessDeniedError } from '../errors.js';
import { verify, type VerifyOptions, type VerifyRequest, type VerifyResult } from '../signer/index.js';
import type { AccessKeyRecord } from '../model.js';
import type { AccessKeyService } from './service.js';

/** Where keys come from: the key service, or anything with its `resolve` (tests, benchmarks). */
export type KeySource = Pick<AccessKeyService, 'resolve'>;

/** Far above any id qfdata issues (32 hex characters) or an operator would choose; below the store's key limit. */
export const MAX_ACCESS_KEY_ID_LENGTH = 128;

/** What a disabled key is told, wherever it signs. */
export const DISABLED_KEY_MESSAGE = 'Access denied: this access key is disabled.';

/** The signer's `lookup` over a key source: the opened secret, and the key's record as the credential. */
export function signatureLookup(keys: KeySource): VerifyOptions<AccessKeyRecord>['lookup'] {
  return async (accessKeyId) => {
    if (accessKeyId.length > MAX_ACCESS_KEY_ID_LENGTH) return undefined;
    const key = await keys.resolve(accessKeyId);
    return key ? { secretAccessKey: key.secretAccessKey, credential: key.record } : undefined;
  };
}

/** Refuses a disabled key with `AccessDenied` (403). */
export function assertEnabled(key: Pick<AccessKeyRecord, 'enabled'>): void {
  if (!key.enabled) throw new AccessDeniedError(DISABLED_KEY_MESSAGE);
}

/**
 * Verifies a signed request against `keys`, then admits its key. Resolves to the signer's result, whose
 * `credential` is the key's record (account, policy); rejects with the signer's errors or `AccessDenied`.
 */
export async function verifyWithKeys(
  request: VerifyRequest,
  keys: KeySource,
  options: Omit<VerifyOptions<AccessKeyRecord>, 'lookup'> = {},
): Promise<VerifyResult<AccessKeyRecord>> {
  const result = await verify(request, { ...options, lookup: signatureLookup(keys) });
  assertEnabled(result.credential);
  return result;
}
