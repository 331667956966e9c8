/**
 * The one error hierarchy of qfdata. Every error a request can end in is one of these classes; each pins its
 * wire `code` (V2, string), its HTTP status and its V1 integer code. The HTTP error mapper
 * (`shared/http/errors.ts`) turns them into the V1 or V2 envelope; nothing else builds an error body.
 *
 * V1 integer codes (the table the README documents):
 *
 * | V1 code | meaning                                  | classes                                              |
 * |---------|------------------------------------------|------------------------------------------------------|
 * | 500001  | param invalid (seed 000)                 | InappropriateJSON, InvalidMarker, IdempotentParameterMismatch |
 * | 336002  | InvalidJSON (SDK `APIErrorCode`)         | MalformedJSON                                        |
 * | 500002  | resource not found                       | ResourceNotFound                                     |
 * | 500003  | state conflict                           | PreconditionFailed                                   |
 * | 336005  | APINameNotExist (SDK `APIErrorCode`)     | InvalidAction, NotSupported                          |
 * | 14      | IAMCertificationFailed (SDK)             | InvalidHTTPAuthHeader, InvalidAccessKeyId, SignatureDoesNotMatch, RequestExpired |
 * | 336004  | PermissionError (SDK)                    | AccessDenied                                         |
 * | 336101  | InvalidHTTPMethod (SDK)                  | MethodNotAllowed                                     |
 * | 336001  | InvalidArgument (SDK)                    | EntityTooLarge                                       |
 * | 2       | ServiceUnavailable (SDK)                 | ServiceUnavailable (the local gateway only)          |
 * | 336100  | ServerHighLoad (SDK; the SDKs retry it)  | ConcurrentModification                               |
 * | 336000  | InternalError (SDK)                      | InternalError                                        |
 *
 * `BucketAlreadyExists` answers 500003 like the other state conflicts; `NotFound` (no API at that path) 336005.
 */

export interface QfErrorOptions {
  cause?: unknown;
}

export abstract class QfError extends Error {
  /** V2 wire code, e.g. `InappropriateJSON`. */
  abstract readonly code: string;
  /** HTTP status of the V2 envelope, and the `status` field of the V1 envelope. */
  abstract readonly status: number;
  /** Integer code of the V1 envelope (`code` and `error_code`). */
  abstract readonly v1Code: number;
  /**
   * Errors raised in front of both APIs (the IAM layer's auth failures, and the gateway's answers to requests no
   * operation serves) answer with their HTTP status on V1 paths too; every other V1 error answers HTTP 200 with
   * `success: false`, as Qianfan's console does.
   */
  readonly iam: boolean = false;

  constructor(message: string, options?: QfErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Valid JSON that does not fit the operation: a missing or wrongly typed field, a value out of range. */
export class InappropriateJSONError extends QfError {
  readonly code = 'InappropriateJSON';
  readonly status = 400;
  readonly v1Code = 500001;
}

/** The body is not JSON at all. */
export class MalformedJSONError extends QfError {
  readonly code = 'MalformedJSON';
  readonly status = 400;
  readonly v1Code = 336002;
  constructor(message = 'The JSON you provided was not well-formed.', options?: QfErrorOptions) {
    super(message, options);
  }
}

export class InvalidMarkerError extends QfError {
  readonly code = 'InvalidMarker';
  readonly status = 400;
  readonly v1Code = 500001;
}

export class IdempotentParameterMismatchError extends QfError {
  readonly code = 'IdempotentParameterMismatch';
  readonly status = 400;
  readonly v1Code = 500001;
}

/** A dataset, version or task id that does not exist for the caller's account. */
export class ResourceNotFoundError extends QfError {
  readonly code = 'ResourceNotFound';
  readonly status = 404;
  readonly v1Code = 500002;
}

/** The kinds of resource a request can name, as "does not exist" messages call them. */
export type ResourceKind = 'dataset' | 'dataset version' | 'import task' | 'export task' | 'export schedule' | 'access key' | 'bucket' | 'sample' | 'import rule';

/** The one "does not exist" answer: `The dataset "dg-…" does not exist.` (the id shown bounded and quoted). */
export function notFound(kind: ResourceKind, id: string | number): ResourceNotFoundError {
  return new ResourceNotFoundError(`The ${kind} ${JSON.stringify(String(id).slice(0, 64))} does not exist.`);
}

/** The resource exists but its state forbids the operation (e.g. a published version is read-only). */
export class PreconditionFailedError extends QfError {
  readonly code = 'PreconditionFailed';
  readonly status = 412;
  readonly v1Code = 500003;
}

/**
 * Another change to the same thing was in progress and did not finish in time (sample edits of one version run one
 * at a time). Retrying succeeds; the V1 code is 336100 (ServerHighLoad), which the Python and JS SDKs retry on
 * their own.
 */
export class ConcurrentModificationError extends QfError {
  readonly code = 'ConcurrentModification';
  readonly status = 409;
  readonly v1Code = 336100;
}

/** `POST /v2/dataset` with an Action that is not a dataset action. */
export class InvalidActionError extends QfError {
  readonly code = 'InvalidAction';
  readonly status = 400;
  readonly v1Code = 336005;
}

/** An operation of Qianfan's dataset family that qfdata does not implement. */
export class NotSupportedError extends QfError {
  readonly code = 'NotSupported';
  readonly status = 400;
  readonly v1Code = 336005;
}

abstract class IamError extends QfError {
  override readonly iam = true;
  readonly v1Code: number = 14;
}

export class InvalidHTTPAuthHeaderError extends IamError {
  readonly code = 'InvalidHTTPAuthHeader';
  readonly status = 400;
}

export class InvalidAccessKeyIdError extends IamError {
  readonly code = 'InvalidAccessKeyId';
  readonly status = 403;
}

export class SignatureDoesNotMatchError extends IamError {
  readonly code = 'SignatureDoesNotMatch';
  readonly status = 403;
}

export class RequestExpiredError extends IamError {
  readonly code = 'RequestExpired';
  readonly status = 400;
}

export class AccessDeniedError extends IamError {
  readonly code = 'AccessDenied';
  readonly status = 403;
  override readonly v1Code = 336004;
  constructor(message = 'Access denied.', options?: QfErrorOptions) {
    super(message, options);
  }
}

/** A bucket name another account already owns (or the platform's). */
export class BucketAlreadyExistsError extends QfError {
  readonly code = 'BucketAlreadyExists';
  readonly status = 409;
  readonly v1Code = 500003;
}

/** Answers of the gateway in front of both APIs: requests that no operation serves. */
abstract class GatewayError extends QfError {
  override readonly iam = true;
}

/** No API at that path (for any method). */
export class NotFoundError extends GatewayError {
  readonly code = 'NotFound';
  readonly status = 404;
  readonly v1Code = 336005;
}

/** A path that exists, asked with a method it does not serve (every API here is POST). */
export class MethodNotAllowedError extends GatewayError {
  readonly code = 'MethodNotAllowed';
  readonly status = 405;
  readonly v1Code = 336101;
}

/** A request body over the gateway's limit (10 MiB, as API Gateway's). */
export class EntityTooLargeError extends GatewayError {
  readonly code = 'EntityTooLarge';
  readonly status = 413;
  readonly v1Code = 336001;
}

/** The functions behind the gateway do not answer (the local twin starting or stopped). */
export class ServiceUnavailableError extends GatewayError {
  readonly code = 'ServiceUnavailable';
  readonly status = 503;
  readonly v1Code = 2;
}

/** Anything unexpected. Its message is never sent to the client; the cause is logged once. */
export class InternalError extends QfError {
  readonly code = 'InternalError';
  readonly status = 500;
  readonly v1Code = 336000;
  constructor(message = 'We encountered an internal error. Please try again.', options?: QfErrorOptions) {
    super(message, options);
  }
}

/**
 * Whether `error` is an error of the class named `name`. The one way the house recognises an error class across
 * function bundles (a bundle can hold two copies of a class, and then `instanceof` fails across them).
 */
export function errorNamed(error: unknown, name: string): boolean {
  return typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;
}

/**
 * True for our own errors. Matches on `instanceof` and, as a fallback, on the shape every class of this module has
 * (a name ending in `Error`, a string wire code, numeric statuses, the IAM flag): a function bundle can hold two
 * copies of this module, and then `instanceof` fails across them. The shape is the class's, so no table of names
 * has to be kept in step with the classes.
 */
export function isQfError(error: unknown): error is QfError {
  if (error instanceof QfError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const e = error as Partial<QfError>;
  return (
    typeof e.name === 'string' &&
    e.name.endsWith('Error') &&
    typeof e.code === 'string' &&
    typeof e.status === 'number' &&
    typeof e.v1Code === 'number' &&
    typeof e.iam === 'boolean'
  );
}
