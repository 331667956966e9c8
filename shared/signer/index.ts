/**
 * `bce-auth-v1`: signing and verification (wire spec §5). The only code in qfdata that knows the algorithm.
 *
 * Pure functions over strings and bytes: no I/O, no logging, `node:crypto` only. `sign` is used by the typed client,
 * the CLI and the tests; `verify` by the IAM layer in front of both APIs. The canonical request (everything but the
 * HMAC) is built in `./canonical.ts`, which the browser signer (`./browser.ts`, WebCrypto) shares.
 *
 * The algorithm, in short:
 * 1. `prefix = bce-auth-v1/{ak}/{YYYY-MM-DDTHH:mm:ssZ}/{expirationSeconds}`
 * 2. `signingKey = hex(HMAC-SHA256(sk, prefix))`; the 64 hex characters themselves are the next key.
 * 3. `canonicalRequest = METHOD \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders`
 * 4. `signature = hex(HMAC-SHA256(signingKey, canonicalRequest))`
 * 5. `Authorization = prefix/{signedHeaders joined with ';', possibly empty}/{signature}`
 *
 * Verification tolerates the quirks of every official client (spec §5.2, §5.4) and is strict about everything
 * else. Decisions taken here:
 * - `host` must be among the signed headers (the default set includes it). A list without it is refused as
 *   `InvalidHTTPAuthHeader` (400) while parsing, before any key lookup: the header is structurally unacceptable,
 *   and refusing it early means a signature that does not bind the host is never even computed. A request with no
 *   `Host` header at all cannot match and is `SignatureDoesNotMatch`.
 * - Percent-decoding works on bytes and never fails: a `%` not followed by two hex digits is kept literally, and
 *   invalid UTF-8 stays as bytes. Bad encoding in the path or query therefore ends as an ordinary mismatch, never
 *   as an unexpected exception.
 * - Python quirk (BCEPY `_get_canonical_headers`): every `x-bce-*` header present is canonicalised even when the
 *   explicit list omits it. When such an unlisted `x-bce-*` header is present, "listed ∪ those" is tried as one
 *   extra header set (at most doubling 4 HMACs to 8); otherwise it costs nothing.
 * - Not tolerated: BCEPY keeps empty-valued headers as `name:` lines (JS skips them; we skip them); the JS SDK does
 *   not percent-encode query keys (irrelevant for `Action`, the only key the SDKs send).
 * - The `x-bce-date` header is not compared with the auth timestamp (JS can differ by a second, the docs' example
 *   by five minutes); it is signed anyway.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import {
  InvalidAccessKeyIdError,
  InvalidHTTPAuthHeaderError,
  RequestExpiredError,
  SignatureDoesNotMatchError,
} from '../errors.js';
import {
  AUTH_VERSION,
  MAX_EXPIRATION_SECONDS,
  authStringPrefix,
  bceHeaderNames,
  canonicalHeaders,
  canonicalQueryOfRawString,
  canonicalRequestOf,
  canonicalUriOfWirePath,
  defaultSignedHeaderNames,
  formatBceTimestamp,
  lowerCaseUnique,
  nonEmptyPath,
  normalizeHeaders,
  planSignature,
  signResultOf,
  type HeaderMap,
  type SignInput,
  type SignResult,
} from './canonical.js';

export { formatBceTimestamp, uriEncode, type QueryInput, type SignInput, type SignResult } from './canonical.js';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

export interface VerifyRequest {
  method: string;
  /** Path exactly as received on the wire (may contain `%XX` and literal `(` etc.). */
  rawPath: string;
  /** Raw query string, without or with a leading `?`; may have been rebuilt by a proxy (`+` for space). */
  rawQueryString?: string;
  /** Header names lower-case (they are lower-cased again here anyway). */
  headers: Record<string, string | undefined>;
  /** Needed only when `content-md5` or `x-bce-content-sha256` is signed; absent means empty. */
  body?: string | Uint8Array;
}

export interface VerifyOptions<C> {
  /** Finds the secret of an access key. A rejection propagates unchanged (it is an infrastructure failure). */
  lookup: (accessKeyId: string) => Promise<{ secretAccessKey: string; credential: C } | undefined>;
  /** Default `new Date()`. */
  now?: Date;
  /** Cap on the effective lifetime, default 3600: effective = min(expirationPeriodInSeconds, cap). */
  maxLifetimeSeconds?: number;
  /** Default 900: a timestamp further than this in the future is refused. */
  maxFutureSkewSeconds?: number;
}

export interface VerifyResult<C> {
  accessKeyId: string;
  credential: C;
  /** The auth timestamp. */
  timestamp: Date;
  /** Lower-case names of the headers that went into the matching canonical request, in canonical order. */
  signedHeaders: string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------------------

const DEFAULT_MAX_LIFETIME_SECONDS = 3600;
const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 900;
/** Far above any real header (API Gateway caps headers at 10 KB); keeps parsing of hostile input cheap. */
const MAX_AUTHORIZATION_LENGTH = 8192;

const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const EXPIRATION_PATTERN = /^\d{1,10}$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
/** RFC 9110 token, lower-cased. */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your Secret Access Key and signing method.';

function hmacHex(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

// ---------------------------------------------------------------------------------------------------------------
// sign
// ---------------------------------------------------------------------------------------------------------------

/**
 * Signs a request with `bce-auth-v1` and returns the `Authorization` value plus its intermediate values (handy for
 * tests and debugging; never log `signingKey`).
 *
 * @throws InternalError on a programming error: no `host` header, an access key containing `/`, a bad expiration
 *   or timestamp.
 */
export function sign(input: SignInput): SignResult {
  const plan = planSignature(input);
  const signingKey = hmacHex(input.secretAccessKey, plan.prefix);
  return signResultOf(plan, signingKey, hmacHex(signingKey, plan.canonicalRequest));
}

// ---------------------------------------------------------------------------------------------------------------
// verify: parsing
// ---------------------------------------------------------------------------------------------------------------

interface ParsedAuthorization {
  accessKeyId: string;
  /** As received: it is part of the signed prefix. */
  rawTimestamp: string;
  timestamp: Date;
  /** As received: it is part of the signed prefix. */
  rawExpiration: string;
  expirationSeconds: number;
  /** Deduplicated lower-case names, or `undefined` for the default set (empty field). */
  signedHeaders: string[] | undefined;
  signature: string;
}

function invalidAuthHeader(reason: string): InvalidHTTPAuthHeaderError {
  return new InvalidHTTPAuthHeaderError(`The Authorization header is invalid: ${reason}.`);
}

/** Strict `YYYY-MM-DDTHH:mm:ssZ` that names a real instant (no 2024-02-30, no second 60). */
function parseBceTimestamp(raw: string): Date | undefined {
  const m = TIMESTAMP_PATTERN.exec(raw);
  if (!m) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = m.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  return formatBceTimestamp(date) === raw ? date : undefined;
}

function parseExpiration(raw: string): number | undefined {
  if (!EXPIRATION_PATTERN.test(raw)) return undefined;
  const value = Number(raw);
  return value <= MAX_EXPIRATION_SECONDS ? value : undefined;
}

/** `''` → default set (`undefined`); otherwise validated, lower-cased, deduplicated names that include `host`. */
function parseSignedHeaders(raw: string): string[] | undefined {
  if (raw === '') return undefined;
  const names = lowerCaseUnique(raw.split(';'));
  if (!names.every((n) => HEADER_NAME_PATTERN.test(n))) throw invalidAuthHeader('bad signedHeaders');
  if (!names.includes('host')) throw invalidAuthHeader('signedHeaders must include host');
  return names;
}

function parseAuthorization(value: string | undefined): ParsedAuthorization {
  if (value === undefined || value.trim() === '') throw invalidAuthHeader('missing');
  if (value.length > MAX_AUTHORIZATION_LENGTH) throw invalidAuthHeader('too long');
  const parts = value.trim().split('/');
  if (parts.length !== 6) throw invalidAuthHeader(`expected 6 "/"-separated parts`);
  const [version, accessKeyId, rawTimestamp, rawExpiration, rawSignedHeaders, signature] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (version !== AUTH_VERSION) throw invalidAuthHeader(`unsupported version, expected ${AUTH_VERSION}`);
  if (accessKeyId === '') throw invalidAuthHeader('empty access key id');
  const timestamp = parseBceTimestamp(rawTimestamp);
  if (!timestamp) throw invalidAuthHeader('timestamp must be YYYY-MM-DDTHH:mm:ssZ');
  const expirationSeconds = parseExpiration(rawExpiration);
  if (expirationSeconds === undefined) throw invalidAuthHeader('expiration must be an integer from 0 to 2^31');
  if (!SIGNATURE_PATTERN.test(signature)) throw invalidAuthHeader('signature must be 64 lowercase hex characters');
  const signedHeaders = parseSignedHeaders(rawSignedHeaders);
  return { accessKeyId, rawTimestamp, timestamp, rawExpiration, expirationSeconds, signedHeaders, signature };
}

// ---------------------------------------------------------------------------------------------------------------
// verify: time window
// ---------------------------------------------------------------------------------------------------------------

function checkTimeWindow(auth: ParsedAuthorization, opts: VerifyOptions<unknown>): void {
  const now = (opts.now ?? new Date()).getTime();
  const issued = auth.timestamp.getTime();
  const lifetime = Math.min(auth.expirationSeconds, opts.maxLifetimeSeconds ?? DEFAULT_MAX_LIFETIME_SECONDS);
  const futureSkew = opts.maxFutureSkewSeconds ?? DEFAULT_MAX_FUTURE_SKEW_SECONDS;
  if (now > issued + lifetime * 1000 || issued > now + futureSkew * 1000) {
    throw new RequestExpiredError(`Request has expired. Timestamp date is ${auth.rawTimestamp}.`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// verify: signature candidates
// ---------------------------------------------------------------------------------------------------------------

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** `example.com:8443` → `example.com`, `[::1]:8080` → `[::1]`; anything else unchanged. */
function stripPort(host: string): string {
  const m = /^(\[[^\]]*\]|[^:]*):\d+$/.exec(host);
  return m ? (m[1] as string) : host;
}

/** {strict re-encoding of the decoded wire path, the wire path as received} (the JS SDK signs the latter). */
function canonicalUriCandidates(rawPath: string): string[] {
  return unique([canonicalUriOfWirePath(rawPath), nonEmptyPath(rawPath)]);
}

/** {Host as received, Host without port} (Go and Java sign the host without its port). */
function hostCandidates(host: string): string[] {
  return unique([host, stripPort(host)]);
}

/** The signed set, plus (Python quirk) that set with every unlisted `x-bce-*` header present. */
function headerNameCandidates(auth: ParsedAuthorization, headers: HeaderMap): string[][] {
  if (auth.signedHeaders === undefined) return [defaultSignedHeaderNames(headers)];
  const listed = auth.signedHeaders;
  const unlistedBce = bceHeaderNames(headers).filter((name) => !listed.includes(name));
  return unlistedBce.length === 0 ? [listed] : [listed, [...listed, ...unlistedBce]];
}

function withHost(headers: HeaderMap, host: string): HeaderMap {
  return new Map(headers).set('host', host);
}

/**
 * Tries every candidate canonical request and returns the signed header names of the first whose signature equals
 * the provided one (constant-time compare), or `undefined`.
 */
function findMatchingCandidate(
  req: VerifyRequest,
  headers: HeaderMap,
  auth: ParsedAuthorization,
  secretAccessKey: string,
): string[] | undefined {
  const host = headers.get('host');
  if (!host) return undefined;
  const prefix = authStringPrefix(auth.accessKeyId, auth.rawTimestamp, auth.rawExpiration);
  const signingKey = hmacHex(secretAccessKey, prefix);
  const provided = Buffer.from(auth.signature, 'latin1');
  const query = canonicalQueryOfRawString(req.rawQueryString ?? '');
  const uris = canonicalUriCandidates(req.rawPath);
  const nameSets = headerNameCandidates(auth, headers);

  for (const hostValue of hostCandidates(host)) {
    const hostHeaders = withHost(headers, hostValue);
    for (const names of nameSets) {
      const canonical = canonicalHeaders(hostHeaders, names);
      for (const uri of uris) {
        const canonicalRequest = canonicalRequestOf(req.method, uri, query, canonical.text);
        const expected = Buffer.from(hmacHex(signingKey, canonicalRequest), 'latin1');
        if (expected.length === provided.length && timingSafeEqual(expected, provided)) return canonical.used;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// verify: body digests
// ---------------------------------------------------------------------------------------------------------------

function bodyBytes(body: string | Uint8Array | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** If the client signed `content-md5` or `x-bce-content-sha256`, the body must match them. */
function checkSignedBodyDigests(
  body: string | Uint8Array | undefined,
  headers: HeaderMap,
  signed: readonly string[],
): void {
  const md5 = signed.includes('content-md5') ? headers.get('content-md5') : undefined;
  const sha256 = signed.includes('x-bce-content-sha256') ? headers.get('x-bce-content-sha256') : undefined;
  if (md5 === undefined && sha256 === undefined) return;
  const bytes = bodyBytes(body);
  if (md5 !== undefined && createHash('md5').update(bytes).digest('base64') !== md5) {
    throw new SignatureDoesNotMatchError('The Content-MD5 you specified does not match the request body.');
  }
  if (sha256 !== undefined && createHash('sha256').update(bytes).digest('hex') !== sha256.toLowerCase()) {
    throw new SignatureDoesNotMatchError('The x-bce-content-sha256 you specified does not match the request body.');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// verify
// ---------------------------------------------------------------------------------------------------------------

/**
 * Verifies a `bce-auth-v1` request (spec §5.4). Order: parse → lookup → time window → signature → body digests.
 *
 * @throws InvalidHTTPAuthHeaderError (400) missing or malformed Authorization, or `host` not signed.
 * @throws InvalidAccessKeyIdError (403) `lookup` returned `undefined`.
 * @throws RequestExpiredError (400) `now > ts + min(exp, maxLifetime)` or `ts > now + maxFutureSkew`.
 * @throws SignatureDoesNotMatchError (403) no candidate matches, or a signed body digest is wrong. The message never
 *   contains the expected signature, the canonical request or any secret.
 */
export async function verify<C>(req: VerifyRequest, opts: VerifyOptions<C>): Promise<VerifyResult<C>> {
  const headers = normalizeHeaders(req.headers);
  const auth = parseAuthorization(headers.get('authorization'));
  const found = await opts.lookup(auth.accessKeyId);
  if (found === undefined) throw new InvalidAccessKeyIdError('The access key id you provided does not exist.');
  checkTimeWindow(auth, opts);
  const signedHeaders = findMatchingCandidate(req, headers, auth, found.secretAccessKey);
  if (signedHeaders === undefined) throw new SignatureDoesNotMatchError(SIGNATURE_MISMATCH_MESSAGE);
  checkSignedBodyDigests(req.body, headers, signedHeaders);
  return { accessKeyId: auth.accessKeyId, credential: found.credential, timestamp: auth.timestamp, signedHeaders };
}
