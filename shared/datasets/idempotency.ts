/**
 * BCE's `clientToken`: a create repeated with the same token and the same request returns the first result; the
 * same token with a different request is `IdempotentParameterMismatch`. The first request stores its plan (the
 * ids it chose) before doing any work, so a retry after a crash repeats exactly the same work and finishes it.
 * Tokens are remembered for 24 hours.
 */
import { createHash } from 'node:crypto';
import { IdempotentParameterMismatchError } from '../errors.js';
import type { Clock } from '../model.js';
import type { MetadataStore } from '../store/port.js';

export interface ClientToken {
  /** The wire operation, so one token can serve different operations independently. */
  operation: string;
  token: string;
}

export const TOKEN_TTL_SECONDS = 24 * 3600;

/**
 * The steps of a create: decide (ids) once, then do the work; `run` must be repeatable with the same plan. `plan`
 * runs only for a request whose token is new (or that has none), so checks that a retry must not repeat (the
 * state the first request changed) belong there. `run` learns whether its plan is `fresh` (made by this call):
 * if not, an earlier request with the token may have done part of the work, which `run` must look for and finish.
 */
export interface IdempotentWork<P extends Record<string, unknown>, R> {
  plan: () => Promise<P>;
  run: (plan: P, fresh: boolean) => Promise<R>;
}

function hashOf(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

export async function idempotent<P extends Record<string, unknown>, R>(
  store: MetadataStore,
  account: string,
  token: ClientToken | undefined,
  request: unknown,
  work: IdempotentWork<P, R>,
  clock: Clock = Date.now,
): Promise<R> {
  if (!token) return work.run(await work.plan(), true);
  const scope = `${token.operation}#${token.token}`;
  const requestHash = hashOf({ operation: token.operation, request });
  const now = clock();
  const nowSeconds = Math.floor(now / 1000);
  // A known token never plans again: planning has effects (it hands out ids and version numbers).
  let claimed = await store.getToken(account, scope, nowSeconds);
  let fresh = false;
  if (!claimed) {
    const mine = {
      account,
      scope,
      requestHash,
      plan: await work.plan(),
      createdAt: new Date(now).toISOString(),
      expiresAt: nowSeconds + TOKEN_TTL_SECONDS,
    };
    claimed = await store.claimToken(mine, nowSeconds);
    // The store hands back the record it was given when the claim wins, the stored one when a concurrent request won.
    fresh = claimed === mine;
  }
  if (claimed.requestHash !== requestHash) {
    throw new IdempotentParameterMismatchError(
      `The clientToken ${JSON.stringify(token.token)} was already used with different parameters; use a new clientToken for a different request.`,
    );
  }
  if (claimed.result !== undefined) return claimed.result as R;
  const result = await work.run(claimed.plan as P, fresh);
  await store.completeToken(account, scope, result);
  return result;
}
