/**
 * The BOS-compatible object endpoint of the local twin, served on the download server's port (every path but
 * `/_download/…`): the HTTP side of `shared/bos` (the protocol and the operations live there, tested apart).
 *
 * For each request, in this order:
 * 1. the `bce-auth-v1` signature (the `Authorization` header, or an `authorization` query parameter as in BOS's
 *    presigned URLs), verified through the one signature-lookup adapter (`shared/keys/signatures.ts`) with the
 *    twin's access keys: unknown key `InvalidAccessKeyId`, disabled key `AccessDenied`, expired, altered or
 *    foreign signatures refused, exactly as at the API;
 * 2. the operation, bucket and key (`parseBosRequest`: 400 naming a bad bucket name or key, 501 for what is not
 *    served);
 * 3. the operation itself (`BosService`: the key's policy, then the bucket's ownership, then the object port).
 *
 * Answers are BOS's: errors as JSON `{code, message, requestId}` with BOS's codes and statuses (none for HEAD),
 * every answer with `x-bce-request-id`.
 *
 * Bodies stream into the object port. The one exception: when the client signed `Content-MD5` or
 * `x-bce-content-sha256`, the signer checks the digest against the body it is given, so such a body is read into
 * memory first (at most {@link MAX_SIGNED_DIGEST_BODY_BYTES}); every body's declared digest is checked again as it
 * streams in (`shared/bos/body.ts`).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { BosBody } from '../shared/bos/body.js';
import { bosErrorOf, bosErrors, type BosError } from '../shared/bos/errors.js';
import { parseBosRequest, type BosOperationName } from '../shared/bos/protocol.js';
import type { BosService } from '../shared/bos/service.js';
import { MAX_LINK_SECONDS } from '../shared/downloads/index.js';
import { verifyWithKeys, type KeySource } from '../shared/keys/index.js';
import { describeCause, log } from '../shared/log.js';

/** A body whose digest the client signed is verified whole, in memory: at most this many bytes. */
export const MAX_SIGNED_DIGEST_BODY_BYTES = 256 * 1024 * 1024;
/** After an early answer, how long the rest of a request body may take to arrive (it is read and discarded). */
const DRAIN_MS = 10_000;

/** One request as the launcher logs it. */
export interface RequestLine {
  method: string;
  operation: string;
  status: number;
  ms: number;
}

export interface BosEndpointOptions {
  service: BosService;
  keys: KeySource;
  /** Cap on a header signature's lifetime (the API's `QFDATA_AUTH_MAX_LIFETIME_SECONDS`), default 3600. */
  maxLifetimeSeconds?: number;
  /** Called once per request when its answer has been sent. */
  onRequest?: (line: RequestLine) => void;
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Whether the signer will check a body digest: a `Content-MD5` or `x-bce-content-sha256` header is present and the
 * authorization signs it (listed, the default set, or, for `x-bce-*`, any header of that prefix as BCEPY signs).
 */
function signsBodyDigest(req: IncomingMessage, authorization: string): boolean {
  const listed = authorization.split('/')[4] ?? '';
  const names = listed === '' ? undefined : listed.toLowerCase().split(';');
  const md5Signed = headerValue(req, 'content-md5') !== undefined && (names === undefined || names.includes('content-md5'));
  const shaSigned = headerValue(req, 'x-bce-content-sha256') !== undefined;
  return md5Signed || shaSigned;
}

/** The whole body, for a signature over its digest; refuses one larger than the cap before reading it. */
async function readWhole(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(headerValue(req, 'content-length') ?? 0);
  const tooLarge = () =>
    bosErrors.entityTooLarge(
      `The body's digest is signed, so the local twin reads it whole before it verifies the signature, and takes at most ${MAX_SIGNED_DIGEST_BODY_BYTES} bytes that way: upload it in parts (UploadPart signs no digest).`,
    );
  if (declared > MAX_SIGNED_DIGEST_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_SIGNED_DIGEST_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads and discards what is left of a request answered early, so that the client can read the answer. */
function drain(req: IncomingMessage): void {
  if (req.complete || req.readableEnded) return;
  const cutOff = setTimeout(() => req.socket.destroy(), DRAIN_MS);
  cutOff.unref();
  req.once('end', () => clearTimeout(cutOff));
  req.once('close', () => clearTimeout(cutOff));
  req.resume();
}

function writeError(req: IncomingMessage, res: ServerResponse, error: BosError, requestId: string): void {
  if (res.headersSent) return void res.destroy();
  const body = req.method === 'HEAD' ? '' : JSON.stringify({ code: error.code, message: error.message, requestId });
  res.writeHead(error.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    'x-bce-request-id': requestId,
    'x-bce-error-code': error.code,
  });
  res.end(body);
}

/** The handler of every object-endpoint request (the download server routes the rest of its paths here). */
export function bosEndpoint(options: BosEndpointOptions) {
  return async (req: IncomingMessage, res: ServerResponse, target: { rawPath: string; rawQuery: string }): Promise<void> => {
    const started = performance.now();
    const requestId = randomUUID();
    let operation: BosOperationName | 'unknown' = 'unknown';
    res.once('close', () => options.onRequest?.({ method: req.method ?? '', operation, status: res.statusCode, ms: performance.now() - started }));
    try {
      const query = new URLSearchParams(target.rawQuery);
      const presigned = query.get('authorization');
      const authorization = presigned ?? headerValue(req, 'authorization');
      const headers = { ...(req.headers as Record<string, string>), ...(authorization ? { authorization } : {}) };
      const whole = authorization && signsBodyDigest(req, authorization) ? await readWhole(req) : undefined;
      const verified = await verifyWithKeys(
        { method: req.method ?? 'GET', rawPath: target.rawPath, rawQueryString: target.rawQuery, headers, ...(whole ? { body: whole } : {}) },
        options.keys,
        { maxLifetimeSeconds: presigned ? MAX_LINK_SECONDS : (options.maxLifetimeSeconds ?? 3600) },
      );
      const op = parseBosRequest({ method: req.method ?? 'GET', rawPath: target.rawPath, rawQuery: target.rawQuery, headers: req.headers });
      operation = op.op;
      const length = headerValue(req, 'content-length');
      const md5 = headerValue(req, 'content-md5');
      const sha256 = headerValue(req, 'x-bce-content-sha256');
      const body: BosBody = {
        stream: whole ? (async function* () { yield whole; })() : (req as AsyncIterable<Buffer>),
        ...(length !== undefined && /^\d+$/.test(length) ? { length: Number(length) } : {}),
        ...(md5 !== undefined ? { md5 } : {}),
        ...(sha256 !== undefined ? { sha256 } : {}),
      };
      const answer = await options.service.handle({ account: verified.credential.account, policy: verified.credential.policy }, op, body);
      drain(req);
      const headersOut: Record<string, string> = { 'x-bce-request-id': requestId, ...answer.headers };
      if (answer.json !== undefined) {
        const text = JSON.stringify(answer.json);
        res.writeHead(answer.status, { ...headersOut, 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
        res.end(req.method === 'HEAD' ? undefined : text);
      } else if (answer.stream && req.method !== 'HEAD') {
        res.writeHead(answer.status, headersOut);
        await pipeline(answer.stream, res);
      } else {
        answer.stream?.destroy();
        res.writeHead(answer.status, { 'content-length': '0', ...headersOut });
        res.end();
      }
    } catch (error) {
      const known = bosErrorOf(error);
      if (!known) log.error('object endpoint request failed', { requestId, operation, ...describeCause(error) });
      writeError(req, res, known ?? bosErrors.internal(), requestId);
      drain(req);
    }
  };
}
