/**
 * Operations invoked directly, not over HTTP: a Lambda Invoke, a Step Functions task, an EventBridge target.
 *
 *   { "action": "CreateImportTask", "account": "team-a", "body": { "versionId": "ds-…", "files": ["bos:/…"] } }
 *
 * Who may do it is decided by IAM: the right to invoke the function. There is no bce signature and no policy check;
 * the account must exist (it has an access key). The same schema validates `body`; the answer is the operation's
 * result (what V2's `result` holds); a failure is thrown as an error whose `name` is the wire code
 * (`ResourceNotFound`, `InappropriateJSON`, …) and whose message is the one the API would answer, so a Step
 * Functions `Catch` can match on it. An unexpected failure is an `InternalError` with a generic message (its cause is
 * logged, never returned).
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { InappropriateJSONError, InvalidActionError, isQfError, ResourceNotFoundError } from '../errors.js';
import { describeCause, log } from '../log.js';
import { ACCOUNT_NAME } from '../model.js';
import { accessKeys } from '../root.js';
import { printable } from './envelope.js';
import type { Operation } from './index.js';
import { validateInput } from './validate.js';

/** A direct invocation's event. */
export interface DirectInvocation {
  action: string;
  account: string;
  body?: unknown;
}

const directEvent = z.object({
  action: z.string().min(1).max(128),
  account: z.string().regex(ACCOUNT_NAME, 'must be an account name: 1-64 letters, digits, ".", "_" or "-"'),
  body: z.unknown().optional(),
});

/** An HTTP API event has a raw path; a direct invocation names an action and an account instead. */
export function isDirectInvocation(event: unknown): event is DirectInvocation {
  return typeof event === 'object' && event !== null && !('rawPath' in event) && !('requestContext' in event) && 'action' in event;
}

/**
 * The error a direct invocation throws: its name is the wire code (Lambda reports it as `errorType`, which a Step
 * Functions `Catch` matches), and so is the first line of its stack.
 */
export class DirectInvocationError extends Error {
  constructor(code: string, message: string) {
    super(message);
    this.name = code;
    Error.captureStackTrace(this, DirectInvocationError);
  }
}

/** Whether the account exists: an operator made it a key (`npm run root-key`), and keys are never moved between accounts. */
async function accountExists(account: string): Promise<boolean> {
  return (await accessKeys().list({ account, accessKeyId: '' })).length > 0;
}

/** Runs `operation` for a direct invocation; `name` is the action the event must name (the operation's wire name). */
export async function invokeDirectly<R>(operation: Pick<Operation<z.ZodType, R>, 'api' | 'name' | 'input' | 'run'>, event: DirectInvocation, context?: Context): Promise<R> {
  const started = performance.now();
  const requestId = context?.awsRequestId ?? crypto.randomUUID();
  let outcome = 'ok';
  try {
    const parsed = directEvent.safeParse(event);
    if (!parsed.success) throw new InappropriateJSONError(`A direct invocation is {"action", "account", "body"}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ')}.`);
    if (parsed.data.action !== operation.name) throw new InvalidActionError(`${printable(parsed.data.action, 128)} is not the operation this function runs (${operation.name}).`);
    if (!(await accountExists(parsed.data.account))) throw new ResourceNotFoundError(`The account ${JSON.stringify(parsed.data.account)} does not exist.`);
    const input = validateInput(operation.input, parsed.data.body ?? {});
    // No access key made the call: locally, download URLs (signed with the caller's key) are then empty.
    return await operation.run(input, { caller: { account: parsed.data.account, accessKeyId: '' }, requestId });
  } catch (error) {
    if (isQfError(error)) {
      outcome = error.code;
      throw new DirectInvocationError(error.code, error.message);
    }
    outcome = 'InternalError';
    log.error('direct invocation failed', { operation: operation.name, requestId, ...describeCause(error) });
    throw new DirectInvocationError('InternalError', `The operation failed unexpectedly (request ${requestId}); retry, and report it if it persists.`);
  } finally {
    log.info('direct invocation', { operation: `${operation.api}.${operation.name}`, account: typeof event?.account === 'string' ? printable(event.account, 64) : '', outcome, durationMs: Math.round(performance.now() - started) });
  }
}
