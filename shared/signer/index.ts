/**
 * `bce-auth-v1`: signing and verification (wire spec §5). The only code in qfdata that knows the algorithm.
 *
 * Pure functions over strings and bytes: no I/O, no logging, `node:crypto` only. `sign` is used by the CLI and the
 * tests; `verify` by the IAM layer in front of both APIs.
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
  InternalError,
  InvalidAccessKeyIdError,
  InvalidHTTPAuthHeaderError,
  RequestExpiredError,
  SignatureDoesNotMatchError,
} from '../errors.js';

// ---------------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------------

/** Query parameters as decoded values. `null` / `undefined` give `key=`. */
export type QueryInput = Record<string, string | number | boolean | null | undefined>;

export interface SignInput {
  /** HTTP method, any case (upper-cased for signing). */
  method: string;
  /** Decoded path (default) or, with `rawPath`, the path exactly as it goes on the wire. */
  path: string;
  /** Decoded values, or a raw query string (`Action=X&a=b`, percent-decoded with `+` as space, then re-encoded). */
  query?: QueryInput | string;
  /** Header names in any case; must include a non-empty `host`. `undefined` values are ignored. */
  headers: Record<string, string | number | undefined>;
  accessKeyId: string;
  secretAccessKey: string;
  /** Default now; formatted `YYYY-MM-DDTHH:mm:ssZ`. */
  timestamp?: Date;
  /** Default 1800. */
  expirationInSeconds?: number;
  /**
   * Default (`undefined`): host, content-md5, content-length, content-type and every `x-bce-*` present, listed
   * sorted as the JS SDK does. `[]`: the same set, with an empty signedHeaders field as BCEPY emits. A non-empty
   * list: exactly those headers, listed lower-cased in the given order.
   */
  signedHeaders?: string[];
  /** If true the path is the canonical URI exactly as given (JS SDK style); default `UriEncodeExceptSlash(path)`. */
  rawPath?: boolean;
}

export interface SignResult {
  /** The full `Authorization` header value. */
  authorization: string;
  signature: string;
  signingKey: string;
  canonicalRequest: string;
  /** The auth timestamp as formatted into the authorization. */
  timestamp: string;
}

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

const AUTH_VERSION = 'bce-auth-v1';
const DEFAULT_EXPIRATION_SECONDS = 1800;
const DEFAULT_MAX_LIFETIME_SECONDS = 3600;
const DEFAULT_MAX_FUTURE_SKEW_SECONDS = 900;
const MAX_EXPIRATION_SECONDS = 2 ** 31;
/** Far above any real header (API Gateway caps headers at 10 KB); keeps parsing of hostile input cheap. */
const MAX_AUTHORIZATION_LENGTH = 8192;
const BASE_SIGNED_HEADERS = ['host', 'content-md5', 'content-length', 'content-type'] as const;
const BCE_HEADER_PREFIX = 'x-bce-';

const TIMESTAMP_PATTERN = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;
const EXPIRATION_PATTERN = /^\d{1,10}$/;
const SIGNATURE_PATTERN = /^[0-9a-f]{64}$/;
/** RFC 9110 token, lower-cased. */
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;

const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your Secret Access Key and signing method.';

// ---------------------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------------------

function isUnreservedByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) || // 0-9
    (b >= 0x41 && b <= 0x5a) || // A-Z
    (b >= 0x61 && b <= 0x7a) || // a-z
    b === 0x2d || // -
    b === 0x2e || // .
    b === 0x5f || // _
    b === 0x7e // ~
  );
}

/** The encoded form of every byte: unreserved bytes as themselves, the rest as `%XX` with uppercase hex. */
const ENCODED_BYTES: readonly string[] = Array.from({ length: 256 }, (_, b) =>
  isUnreservedByte(b) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
);

const SLASH = 0x2f;
const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

function encodeBytes(bytes: Uint8Array, encodeSlash: boolean): string {
  let out = '';
  for (const b of bytes) out += b === SLASH && !encodeSlash ? '/' : ENCODED_BYTES[b];
  return out;
}

/**
 * RFC 3986 `UriEncode` of spec §5.1: the UTF-8 bytes of `s`, keeping `A–Z a–z 0–9 - . _ ~` and turning every other
 * byte into `%XX` (uppercase hex); so space is `%20` and `! ' ( ) *` are encoded. With `encodeSlash` false, `/`
 * stays literal (`UriEncodeExceptSlash`). Never throws: a lone surrogate becomes U+FFFD.
 */
export function uriEncode(s: string, encodeSlash = true): string {
  return encodeBytes(Buffer.from(s, 'utf8'), encodeSlash);
}

function hexDigitValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x41 + 10;
  if (b >= 0x61 && b <= 0x66) return b - 0x61 + 10;
  return -1;
}

/**
 * Percent-decodes to bytes. Lenient by design: a `%` not followed by two hex digits stays a literal `%`, so this
 * never throws; the result is re-encoded byte by byte, so invalid UTF-8 survives unchanged too.
 */
function percentDecodeToBytes(s: string, plusAsSpace: boolean): Buffer {
  const src = Buffer.from(s, 'utf8');
  const out = Buffer.alloc(src.length);
  let n = 0;
  for (let i = 0; i < src.length; i++) {
    const b = src[i] as number;
    const hi = b === PERCENT ? hexDigitValue(src[i + 1]) : -1;
    const lo = hi >= 0 ? hexDigitValue(src[i + 2]) : -1;
    if (lo >= 0) {
      out[n++] = hi * 16 + lo;
      i += 2;
    } else {
      out[n++] = plusAsSpace && b === PLUS ? SPACE : b;
    }
  }
  return out.subarray(0, n);
}

/**
 * The bce timestamp form of a date: UTC `YYYY-MM-DDTHH:mm:ssZ`, fractional seconds dropped.
 * @throws InternalError for an invalid `Date`.
 */
export function formatBceTimestamp(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new InternalError('formatBceTimestamp: invalid Date');
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

// ---------------------------------------------------------------------------------------------------------------
// Canonical request parts
// ---------------------------------------------------------------------------------------------------------------

function hmacHex(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

function authStringPrefix(accessKeyId: string, timestamp: string, expiration: string): string {
  return `${AUTH_VERSION}/${accessKeyId}/${timestamp}/${expiration}`;
}

function nonEmptyPath(path: string): string {
  return path === '' ? '/' : path;
}

/** `UriEncodeExceptSlash` of a decoded path. */
function canonicalUriOfDecodedPath(path: string): string {
  return uriEncode(nonEmptyPath(path), false);
}

/** `UriEncodeExceptSlash(percentDecode(rawPath))`: the strict normalisation of a wire path. */
function canonicalUriOfWirePath(rawPath: string): string {
  return encodeBytes(percentDecodeToBytes(nonEmptyPath(rawPath), false), false);
}

function isAuthorizationKey(keyBytes: Uint8Array): boolean {
  return Buffer.from(keyBytes).toString('latin1').toLowerCase() === 'authorization';
}

/** Canonical query of a raw query string: decode (`+` is a space), re-encode, drop `authorization`, sort. */
function canonicalQueryOfRawString(raw: string): string {
  const query = raw.startsWith('?') ? raw.slice(1) : raw;
  const pairs: string[] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = percentDecodeToBytes(eq < 0 ? part : part.slice(0, eq), true);
    if (isAuthorizationKey(key)) continue;
    const value = percentDecodeToBytes(eq < 0 ? '' : part.slice(eq + 1), true);
    pairs.push(`${encodeBytes(key, true)}=${encodeBytes(value, true)}`);
  }
  return pairs.sort().join('&');
}

/** Canonical query of decoded parameters. */
function canonicalQueryOfObject(query: QueryInput): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (key.toLowerCase() === 'authorization') continue;
    pairs.push(`${uriEncode(key)}=${uriEncode(value === null || value === undefined ? '' : String(value))}`);
  }
  return pairs.sort().join('&');
}

/** Header map with lower-cased, trimmed names and trimmed values; `undefined` values dropped. */
type HeaderMap = ReadonlyMap<string, string>;

function normalizeHeaders(headers: Record<string, string | number | undefined>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    map.set(name.trim().toLowerCase(), String(value).trim());
  }
  return map;
}

/** The default signed set: host, content-md5, content-length, content-type, and every `x-bce-*` present. */
function defaultSignedHeaderNames(headers: HeaderMap): string[] {
  return [...BASE_SIGNED_HEADERS, ...bceHeaderNames(headers)];
}

function bceHeaderNames(headers: HeaderMap): string[] {
  return [...headers.keys()].filter((name) => name.startsWith(BCE_HEADER_PREFIX));
}

interface CanonicalHeaders {
  text: string;
  /** Names that produced a line (present with a non-empty value), in canonical (line) order. */
  used: string[];
}

/** One `UriEncode(name):UriEncode(value)` line per named header with a non-empty value, sorted. */
function canonicalHeaders(headers: HeaderMap, names: Iterable<string>): CanonicalHeaders {
  const lines: { name: string; line: string }[] = [];
  for (const name of new Set(names)) {
    const value = headers.get(name);
    if (value === undefined || value === '') continue;
    lines.push({ name, line: `${uriEncode(name)}:${uriEncode(value)}` });
  }
  lines.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  return { text: lines.map((l) => l.line).join('\n'), used: lines.map((l) => l.name) };
}

function canonicalRequestOf(method: string, uri: string, query: string, headers: string): string {
  return `${method.toUpperCase()}\n${uri}\n${query}\n${headers}`;
}

// ---------------------------------------------------------------------------------------------------------------
// sign
// ---------------------------------------------------------------------------------------------------------------

function assertSignableExpiration(expiration: number): void {
  if (!Number.isInteger(expiration) || expiration < 0 || expiration > MAX_EXPIRATION_SECONDS) {
    throw new InternalError('sign: expirationInSeconds must be an integer between 0 and 2^31');
  }
}

function canonicalQueryOfInput(query: QueryInput | string | undefined): string {
  return typeof query === 'string' ? canonicalQueryOfRawString(query) : canonicalQueryOfObject(query ?? {});
}

function lowerCaseUnique(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.trim().toLowerCase()))];
}

/**
 * Signs a request with `bce-auth-v1` and returns the `Authorization` value plus its intermediate values (handy for
 * tests and debugging; never log `signingKey`).
 *
 * @throws InternalError on a programming error: no `host` header, an access key containing `/`, a bad expiration
 *   or timestamp.
 */
export function sign(input: SignInput): SignResult {
  if (input.accessKeyId === '' || input.accessKeyId.includes('/')) {
    throw new InternalError('sign: accessKeyId must be non-empty and must not contain "/"');
  }
  const expiration = input.expirationInSeconds ?? DEFAULT_EXPIRATION_SECONDS;
  assertSignableExpiration(expiration);
  const timestamp = formatBceTimestamp(input.timestamp ?? new Date());
  const headers = normalizeHeaders(input.headers);
  if (!headers.get('host')) throw new InternalError('sign: headers must include a non-empty host');

  const explicitNames = input.signedHeaders?.length ? lowerCaseUnique(input.signedHeaders) : undefined;
  const canonical = canonicalHeaders(headers, explicitNames ?? defaultSignedHeaderNames(headers));
  const uri = input.rawPath ? nonEmptyPath(input.path) : canonicalUriOfDecodedPath(input.path);
  const canonicalRequest = canonicalRequestOf(input.method, uri, canonicalQueryOfInput(input.query), canonical.text);

  const prefix = authStringPrefix(input.accessKeyId, timestamp, String(expiration));
  const signingKey = hmacHex(input.secretAccessKey, prefix);
  const signature = hmacHex(signingKey, canonicalRequest);
  // undefined: the names actually signed, sorted (JS SDK); []: an empty field (BCEPY); else the list as given.
  const signedHeadersField = (input.signedHeaders === undefined ? canonical.used : (explicitNames ?? [])).join(';');
  const authorization = `${prefix}/${signedHeadersField}/${signature}`;

  return { authorization, signature, signingKey, canonicalRequest, timestamp };
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
