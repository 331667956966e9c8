/**
 * The errors of the BOS-compatible object endpoint, as BOS answers them: an HTTP status and a JSON body
 * `{code, message, requestId}` (BOS's error format; `@baiducloud/sdk` reads `code` only when `requestId` is there).
 * The codes are BOS's own (its error code table): `NoSuchBucket`, `NoSuchKey`, `InvalidObjectName`, `AccessDenied`,
 * `BucketAlreadyExists`, `NoSuchUpload`, `InvalidPart`, …
 *
 * {@link bosErrorOf} is the one mapping from whatever an operation threw: our own wire errors (`shared/errors.ts`:
 * the signer's and the bucket service's, which keep their code and status), the object port's errors, and anything
 * else as `InternalError` (500, its cause logged by the server, never sent).
 */
import { errorNamed, isQfError } from '../errors.js';

export class BosError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'BosError';
  }
}

export const bosErrors = {
  accessDenied: (message: string) => new BosError(403, 'AccessDenied', message),
  badDigest: (header: string) => new BosError(400, 'BadDigest', `The ${header} you specified did not match what we received.`),
  bucketAlreadyExists: (message: string) => new BosError(409, 'BucketAlreadyExists', message),
  entityTooLarge: (message: string) => new BosError(400, 'EntityTooLarge', message),
  entityTooSmall: (message: string) => new BosError(400, 'EntityTooSmall', message),
  incompleteBody: (declared: number, received: number) =>
    new BosError(400, 'IncompleteBody', `The request body ended after ${received} of the ${declared} bytes its Content-Length declared.`),
  internal: () => new BosError(500, 'InternalError', 'We encountered an internal error. Please try again.'),
  invalidArgument: (message: string) => new BosError(400, 'InvalidArgument', message),
  invalidBucketName: (bucket: string, problem: string) =>
    new BosError(400, 'InvalidBucketName', `The bucket name ${JSON.stringify(bucket.slice(0, 80))} is not valid: ${problem}.`),
  invalidObjectName: (key: string, problem: string, write = true) =>
    new BosError(400, 'InvalidObjectName', `The object key ${JSON.stringify(key.slice(0, 120))} ${write ? 'cannot be stored' : 'is not an object key'}: ${problem}.`),
  invalidPart: (message: string) => new BosError(400, 'InvalidPart', message),
  invalidPartOrder: () => new BosError(400, 'InvalidPartOrder', 'The list of parts was not in ascending order of part number.'),
  invalidRange: (size: number) => new BosError(416, 'InvalidRange', `The requested range is not satisfiable: the object has ${size} bytes.`),
  invalidUri: (message: string) => new BosError(400, 'InvalidURI', message),
  malformedJson: (message: string) => new BosError(400, 'MalformedJSON', message),
  methodNotAllowed: (method: string) => new BosError(405, 'MethodNotAllowed', `The method ${method.slice(0, 20)} is not allowed on this resource.`),
  noSuchBucket: (bucket: string) => new BosError(404, 'NoSuchBucket', `The specified bucket does not exist: ${bucket}`),
  noSuchKey: () => new BosError(404, 'NoSuchKey', 'The resource you requested does not exist'),
  noSuchUpload: () => new BosError(404, 'NoSuchUpload', 'The multipart upload does not exist: it was never started, or it was completed or aborted.'),
  notImplemented: (what: string) => new BosError(501, 'NotImplemented', `${what} is not implemented by the qfdata object endpoint.`),
};

/** BOS's answer for what an operation threw; `undefined` only for a failure the server must log (then: 500). */
export function bosErrorOf(error: unknown): BosError | undefined {
  if (error instanceof BosError || errorNamed(error, 'BosError')) return error as BosError;
  if (isQfError(error)) {
    if (error.status >= 500) return undefined;
    // The bucket service's answers keep their BOS meaning: ResourceNotFound of a bucket is BOS's NoSuchBucket.
    if (error.code === 'ResourceNotFound') return new BosError(404, 'NoSuchBucket', error.message);
    if (error.code === 'NotSupported') return new BosError(501, 'NotImplemented', error.message);
    if (error.code === 'InappropriateJSON') return new BosError(400, 'InvalidArgument', error.message);
    return new BosError(error.status, error.code, error.message);
  }
  if (errorNamed(error, 'NoSuchBucketError')) return bosErrors.noSuchBucket((error as { bucket: string }).bucket);
  if (errorNamed(error, 'NoSuchKeyError')) return bosErrors.noSuchKey();
  if (errorNamed(error, 'InvalidRangeError')) return bosErrors.invalidRange((error as { size?: number }).size ?? 0);
  if (errorNamed(error, 'InvalidObjectKeyError')) {
    const { bucket, key, message } = error as { bucket?: string; key?: string; message: string };
    return key === undefined && bucket !== undefined ? new BosError(400, 'InvalidBucketName', message) : new BosError(400, 'InvalidObjectName', message);
  }
  return undefined;
}
