/**
 * bce-auth-v1 verification in front of every operation, as Qianfan's IAM layer is. The algorithm lives in
 * `shared/signer`; this middleware only feeds it the request as received and resolves access keys through the
 * metadata store, with a short per-container cache (fail-closed: a store error fails the request).
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { config } from '../config.js';
import { AccessDeniedError } from '../errors.js';
import { verify } from '../signer/index.js';
import { metadataStore, type AccessKeyRecord } from '../store/index.js';
import { rawBody } from './body.js';
import { stateOf } from './state.js';

export interface AuthenticateOptions {
  /** Resolves an access key; defaults to the metadata store behind a cache. */
  lookupKey?: (accessKeyId: string) => Promise<AccessKeyRecord | undefined>;
  now?: () => Date;
}

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

const cache = new Map<string, { record: AccessKeyRecord; until: number }>();

async function cachedLookup(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
  const now = Date.now();
  const hit = cache.get(accessKeyId);
  if (hit && hit.until > now) return hit.record;
  const record = await metadataStore().getAccessKey(accessKeyId);
  if (record) cache.set(accessKeyId, { record, until: now + config().QFDATA_KEY_CACHE_SECONDS * 1000 });
  else cache.delete(accessKeyId);
  return record;
}

export function authenticate(opts: AuthenticateOptions = {}): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const lookupKey = opts.lookupKey ?? cachedLookup;
  const now = opts.now ?? (() => new Date());

  const authenticateBefore = async (request: Request): Promise<void> => {
    const { event } = request;
    const c = config();
    const result = await verify(
      {
        method: event.requestContext?.http?.method ?? 'POST',
        rawPath: event.rawPath,
        rawQueryString: event.rawQueryString ?? '',
        headers: event.headers ?? {},
        body: rawBody(event),
      },
      {
        lookup: async (accessKeyId) => {
          const record = await lookupKey(accessKeyId);
          return record ? { secretAccessKey: record.secretAccessKey, credential: record } : undefined;
        },
        now: now(),
        maxLifetimeSeconds: c.QFDATA_AUTH_MAX_LIFETIME_SECONDS,
        maxFutureSkewSeconds: c.QFDATA_AUTH_MAX_FUTURE_SKEW_SECONDS,
      },
    );
    if (!result.credential.enabled) throw new AccessDeniedError('Access denied: this access key is disabled.');
    stateOf(event).caller = { account: result.credential.account, accessKeyId: result.accessKeyId };
  };

  return { before: authenticateBefore };
}
