/**
 * bce-auth-v1 verification in front of every operation, as Qianfan's IAM layer is, then the policy check. The
 * algorithm lives in `shared/signer`, policies in `shared/keys`; this middleware feeds the request as received to
 * the signature-lookup adapter the download server shares (`shared/keys/signatures.ts`: access keys resolved
 * through the key service, secret opened and cached per container, fail-closed on a store or KMS error; unknown
 * keys `InvalidAccessKeyId`, disabled keys `AccessDenied`), then refuses keys whose policy does not grant what the
 * operation needs. The opened secret is never put on the request state, logged or returned.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Clock } from '../model.js';
import { config } from '../config.js';
import { AccessDeniedError, isQfError } from '../errors.js';
import { allows, verifyWithKeys, type Permission, type ResolvedKey } from '../keys/index.js';
import { metrics } from '../metrics.js';
import { accessKeys } from '../root.js';
import { rawBody } from './body.js';
import { stateOf } from './state.js';

export interface AuthenticateOptions {
  /** Resolves an access key; defaults to the key service (which caches for QFDATA_KEY_CACHE_SECONDS). */
  lookupKey?: (accessKeyId: string) => Promise<ResolvedKey | undefined>;
  /** The clock signatures are checked against (tests pin it). */
  now?: Clock;
}

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * @param needs what the operation needs of the caller's policy; `'any'` for routes that only refuse (an unknown
 *   action answers the same to every valid key).
 */
export function authenticate(needs: Permission | 'any', opts: AuthenticateOptions = {}): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const keys = { resolve: opts.lookupKey ?? ((accessKeyId: string) => accessKeys().resolve(accessKeyId)) };
  const now = opts.now ?? Date.now;

  const authenticateBefore = async (request: Request): Promise<void> => {
    try {
      await check(request);
    } catch (error) {
      // Refusals of the IAM layer (signature, key, policy) are counted by code; a store or KMS failure is not one.
      if (isQfError(error) && error.iam) metrics.authFailure(error.code);
      throw error;
    }
  };

  const check = async (request: Request): Promise<void> => {
    const { event } = request;
    const c = config();
    const result = await verifyWithKeys(
      {
        method: event.requestContext?.http?.method ?? 'POST',
        rawPath: event.rawPath,
        rawQueryString: event.rawQueryString ?? '',
        headers: event.headers ?? {},
        body: rawBody(event),
      },
      keys,
      {
        now: new Date(now()),
        maxLifetimeSeconds: c.QFDATA_AUTH_MAX_LIFETIME_SECONDS,
        maxFutureSkewSeconds: c.QFDATA_AUTH_MAX_FUTURE_SKEW_SECONDS,
      },
    );
    const key = result.credential;
    if (needs !== 'any' && !allows(key.policy, needs)) {
      throw new AccessDeniedError(`Access denied: the policy ${key.policy} of this access key does not allow ${stateOf(event).operation} (it needs ${needs}).`);
    }
    stateOf(event).caller = { account: key.account, accessKeyId: result.accessKeyId };
  };

  return { before: authenticateBefore };
}
