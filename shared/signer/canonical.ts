/**
 * `bce-auth-v1`, the part of the algorithm that needs no HMAC (wire spec §5.1): UriEncode, the canonical URI, query
 * and headers, the canonical request, the auth-string prefix and the Authorization value. Both signers build on it:
 * `./index.ts` (Node: `node:crypto`, synchronous `sign` and `verify`) and `./browser.ts` (WebCrypto, asynchronous
 * `signInBrowser`), so there is one place that knows how a request is canonicalised; they differ only in the HMAC.
 *
 * No Node built-ins here (no `Buffer`, no `node:crypto`): bytes are `Uint8Array`, UTF-8 comes from `TextEncoder`,
 * so the module bundles for the browser as it is.
 */
import { InternalError } from '../errors.js';

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

/** What a signer HMACs, and how the Authorization value is put together once it has the signature. */
export interface SigningPlan {
  /** `bce-auth-v1/{ak}/{timestamp}/{expiration}`: HMAC'd with the secret key into the signing key. */
  prefix: string;
  /** HMAC'd with the signing key (its 64 hex characters) into the signature. */
  canonicalRequest: string;
  /** The signedHeaders field of the Authorization value (possibly empty). */
  signedHeadersField: string;
  timestamp: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------------------------------

export const AUTH_VERSION = 'bce-auth-v1';
const DEFAULT_EXPIRATION_SECONDS = 1800;
export const MAX_EXPIRATION_SECONDS = 2 ** 31;
const BASE_SIGNED_HEADERS = ['host', 'content-md5', 'content-length', 'content-type'] as const;
const BCE_HEADER_PREFIX = 'x-bce-';

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

const UTF8 = new TextEncoder();

/**
 * The UTF-8 bytes of `s`; a lone surrogate becomes U+FFFD (as `Buffer.from(s, 'utf8')` does too). ASCII — all of a
 * wire path, query or header as sent — is copied directly: `TextEncoder` costs several times more per short string
 * in Node than `Buffer` did, and verification encodes a few dozen of them per request.
 */
export function utf8(s: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return UTF8.encode(s);
    bytes[i] = c;
  }
  return bytes;
}

const SLASH = 0x2f;
const PERCENT = 0x25;
const PLUS = 0x2b;
const SPACE = 0x20;

export function encodeBytes(bytes: Uint8Array, encodeSlash: boolean): string {
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
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return encodeBytes(utf8(s), encodeSlash); // ASCII needs no byte array; anything else its UTF-8
    out += c === SLASH && !encodeSlash ? '/' : ENCODED_BYTES[c];
  }
  return out;
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
export function percentDecodeToBytes(s: string, plusAsSpace: boolean): Uint8Array {
  const src = utf8(s);
  const out = new Uint8Array(src.length);
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

export function authStringPrefix(accessKeyId: string, timestamp: string, expiration: string): string {
  return `${AUTH_VERSION}/${accessKeyId}/${timestamp}/${expiration}`;
}

export function nonEmptyPath(path: string): string {
  return path === '' ? '/' : path;
}

/** `UriEncodeExceptSlash` of a decoded path. */
function canonicalUriOfDecodedPath(path: string): string {
  return uriEncode(nonEmptyPath(path), false);
}

/** `UriEncodeExceptSlash(percentDecode(rawPath))`: the strict normalisation of a wire path. */
export function canonicalUriOfWirePath(rawPath: string): string {
  return encodeBytes(percentDecodeToBytes(nonEmptyPath(rawPath), false), false);
}

const AUTHORIZATION = 'authorization';

/** True for the bytes of `authorization` in any ASCII case. */
function isAuthorizationKey(keyBytes: Uint8Array): boolean {
  if (keyBytes.length !== AUTHORIZATION.length) return false;
  // ASCII letters only: setting bit 0x20 lower-cases them; any other byte cannot match a letter after it.
  return keyBytes.every((b, i) => (b | 0x20) === AUTHORIZATION.charCodeAt(i));
}

/** Canonical query of a raw query string: decode (`+` is a space), re-encode, drop `authorization`, sort. */
export function canonicalQueryOfRawString(raw: string): string {
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
export type HeaderMap = ReadonlyMap<string, string>;

export function normalizeHeaders(headers: Record<string, string | number | undefined>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    map.set(name.trim().toLowerCase(), String(value).trim());
  }
  return map;
}

/** The default signed set: host, content-md5, content-length, content-type, and every `x-bce-*` present. */
export function defaultSignedHeaderNames(headers: HeaderMap): string[] {
  return [...BASE_SIGNED_HEADERS, ...bceHeaderNames(headers)];
}

export function bceHeaderNames(headers: HeaderMap): string[] {
  return [...headers.keys()].filter((name) => name.startsWith(BCE_HEADER_PREFIX));
}

interface CanonicalHeaders {
  text: string;
  /** Names that produced a line (present with a non-empty value), in canonical (line) order. */
  used: string[];
}

/** One `UriEncode(name):UriEncode(value)` line per named header with a non-empty value, sorted. */
export function canonicalHeaders(headers: HeaderMap, names: Iterable<string>): CanonicalHeaders {
  const lines: { name: string; line: string }[] = [];
  for (const name of new Set(names)) {
    const value = headers.get(name);
    if (value === undefined || value === '') continue;
    lines.push({ name, line: `${uriEncode(name)}:${uriEncode(value)}` });
  }
  lines.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  return { text: lines.map((l) => l.line).join('\n'), used: lines.map((l) => l.name) };
}

export function canonicalRequestOf(method: string, uri: string, query: string, headers: string): string {
  return `${method.toUpperCase()}\n${uri}\n${query}\n${headers}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Signing, up to the HMACs
// ---------------------------------------------------------------------------------------------------------------

function assertSignableExpiration(expiration: number): void {
  if (!Number.isInteger(expiration) || expiration < 0 || expiration > MAX_EXPIRATION_SECONDS) {
    throw new InternalError('sign: expirationInSeconds must be an integer between 0 and 2^31');
  }
}

function canonicalQueryOfInput(query: QueryInput | string | undefined): string {
  return typeof query === 'string' ? canonicalQueryOfRawString(query) : canonicalQueryOfObject(query ?? {});
}

export function lowerCaseUnique(names: readonly string[]): string[] {
  return [...new Set(names.map((n) => n.trim().toLowerCase()))];
}


/**
 * Everything `sign` does before and between its two HMACs: checks the input, builds the canonical request and the
 * prefix, and decides the signedHeaders field.
 *
 * @throws InternalError on a programming error: no `host` header, an access key containing `/`, a bad expiration
 *   or timestamp.
 */
export function planSignature(input: SignInput): SigningPlan {
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
  // undefined: the names actually signed, sorted (JS SDK); []: an empty field (BCEPY); else the list as given.
  const signedHeadersField = (input.signedHeaders === undefined ? canonical.used : (explicitNames ?? [])).join(';');
  return { prefix, canonicalRequest, signedHeadersField, timestamp };
}

/** The sign result once both HMACs are done. */
export function signResultOf(plan: SigningPlan, signingKey: string, signature: string): SignResult {
  return {
    authorization: `${plan.prefix}/${plan.signedHeadersField}/${signature}`,
    signature,
    signingKey,
    canonicalRequest: plan.canonicalRequest,
    timestamp: plan.timestamp,
  };
}
