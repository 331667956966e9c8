/**
 * The V1 and V2 envelopes (design, wire contract points 1–3). The only code that shapes a response body.
 *
 * - V1 success: HTTP 200 `{log_id, status: 200, success: true, result}`.
 * - V1 business error: HTTP 200 `{log_id, status, success: false, code, message, error_code, error_msg}` with an
 *   integer code (see `shared/errors.ts` for the table).
 * - V2 success: HTTP 200 `{requestId, result}`; V2 error: HTTP status + `{requestId, code, message}`.
 * - Auth (IAM) errors: HTTP status + the V2 shape on every path; on V1 paths also the V1 keys.
 * Every error also carries `X-Bce-Error-Code` / `X-Bce-Error-Message` headers (the Python and Go SDKs read them).
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { QfError } from '../errors.js';
import type { ApiVersion } from './state.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The header messages the Python SDK turns into a friendly hint (spec §7.1): a wrong access key and a wrong secret.
 */
const SDK_HINT_MESSAGES: Record<string, string> = {
  InvalidAccessKeyId: 'NotFound, cause: Could not find credential.',
  SignatureDoesNotMatch: 'SignatureDoesNotMatch, cause: Fail to authn user: Signature does not match',
};

function respond(statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(body) };
}

export function successResponse(api: ApiVersion, requestId: string, result: unknown): APIGatewayProxyStructuredResultV2 {
  return api === 'v1'
    ? respond(200, { log_id: requestId, status: 200, success: true, result })
    : respond(200, { requestId, result });
}

/** `text` as printable ASCII (anything else becomes `?`), cut to `max` characters: for headers, messages and logs. */
export function printable(text: string, max: number): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, max);
}

export function errorResponse(api: ApiVersion, requestId: string, error: QfError): APIGatewayProxyStructuredResultV2 {
  const headers = {
    'X-Bce-Error-Code': error.code,
    'X-Bce-Error-Message': printable(SDK_HINT_MESSAGES[error.code] ?? error.message, 512),
  };
  const v2 = { requestId, code: error.code, message: error.message };
  if (api === 'v2') return respond(error.status, v2, headers);
  const v1Keys = { log_id: requestId, status: error.status, success: false, error_code: error.v1Code, error_msg: error.message };
  if (error.iam) return respond(error.status, { ...v2, ...v1Keys }, headers);
  return respond(200, { ...v1Keys, code: error.v1Code, message: error.message }, headers);
}
