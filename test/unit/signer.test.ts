import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import {
  InvalidAccessKeyIdError,
  InvalidHTTPAuthHeaderError,
  isQfError,
  QfError,
  RequestExpiredError,
  SignatureDoesNotMatchError,
} from '../../shared/errors';
import {
  formatBceTimestamp,
  sign,
  uriEncode,
  verify,
  type SignInput,
  type VerifyOptions,
  type VerifyRequest,
} from '../../shared/signer';
import { hmacHexWebCrypto, signInBrowser } from '../../shared/signer/browser';
import { utf8 } from '../../shared/signer/canonical';

// ---------------------------------------------------------------------------------------------------------------
// Fixtures (spec §5.3)
// ---------------------------------------------------------------------------------------------------------------

const AK = 'test-ak-123';
const SK = 'test-sk-456';
const TS = '2024-05-01T12:00:00Z';
const T0 = new Date(TS);
const TV1_SIGNING_KEY = 'c3758d40d3f31c21bdf7df343fddb9edd52ce649767f6dee5762f96581c4f30b';
const TV1_SIGNATURE = 'f62facac7c488be1cd0a7f1336cb759512669596e9c4fbc8ea0deed384db5596';
const CONSOLE_HOST = '127.0.0.1:8866';
const CONSOLE_SIGNED = 'content-length;content-type;host;x-bce-date';
const CREATE_DATASET_BODY = '{"datasetName":"测试数据集","dataFormat":"PromptResponse","storageType":"sysStorage"}';

interface Credential {
  accountId: string;
}

const CREDENTIAL: Credential = { accountId: 'acct-1' };

function options(overrides: Partial<VerifyOptions<Credential>> = {}): VerifyOptions<Credential> {
  return {
    lookup: async (ak) => (ak === AK ? { secretAccessKey: SK, credential: CREDENTIAL } : undefined),
    now: T0,
    ...overrides,
  };
}

/** The headers the JS `consoleAction` signs, for a body. */
function consoleHeaders(body: string, host = CONSOLE_HOST): Record<string, string> {
  return {
    Host: host,
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body, 'utf8')),
    'x-bce-date': TS,
  };
}

/** A wire request as the server sees it: lower-case header names plus the Authorization header. */
function wireRequest(
  authorization: string,
  parts: { method?: string; rawPath: string; rawQueryString?: string; headers: Record<string, string>; body?: string },
): VerifyRequest {
  const headers: Record<string, string> = { 'user-agent': 'bce-sdk-nodejs/0.2.4/unknown/unknown', accept: 'application/json' };
  for (const [name, value] of Object.entries(parts.headers)) headers[name.toLowerCase()] = value;
  headers.authorization = authorization;
  return {
    method: parts.method ?? 'POST',
    rawPath: parts.rawPath,
    ...(parts.rawQueryString !== undefined ? { rawQueryString: parts.rawQueryString } : {}),
    headers,
    ...(parts.body !== undefined ? { body: parts.body } : {}),
  };
}

/** Signs with the common AK/SK/time and returns the wire request that carries the result. */
function signedRequest(
  input: Omit<SignInput, 'accessKeyId' | 'secretAccessKey'>,
  wire: { rawPath?: string; rawQueryString?: string; body?: string; headers?: Record<string, string> } = {},
): { req: VerifyRequest; authorization: string; signature: string } {
  const { authorization, signature } = sign({ accessKeyId: AK, secretAccessKey: SK, timestamp: T0, ...input });
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(wire.headers ?? input.headers)) {
    if (value !== undefined) headers[name] = String(value);
  }
  const req = wireRequest(authorization, {
    method: input.method,
    rawPath: wire.rawPath ?? input.path,
    ...(wire.rawQueryString !== undefined ? { rawQueryString: wire.rawQueryString } : {}),
    headers,
    ...(wire.body !== undefined ? { body: wire.body } : {}),
  });
  return { req, authorization, signature };
}

function withAuthorization(req: VerifyRequest, authorization: string): VerifyRequest {
  return { ...req, headers: { ...req.headers, authorization } };
}

/** Awaits a rejection and asserts its class; returns the error. */
async function rejection<E extends QfError>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(type);
  expect(isQfError(error)).toBe(true);
  return error as E;
}

/** Deterministic PRNG (mulberry32) so the fuzz cases are reproducible. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding helpers
// ---------------------------------------------------------------------------------------------------------------

describe('Function: uriEncode', () => {
  it('keeps unreserved characters and encodes everything else as uppercase %XX of UTF-8 bytes', () => {
    // Prepare
    const input = "AZaz09-._~ !'()*/:测";

    // Act
    const encoded = uriEncode(input);

    // Assess
    expect(encoded).toBe('AZaz09-._~%20%21%27%28%29%2A%2F%3A%E6%B5%8B');
  });

  it('keeps "/" literal when encodeSlash is false (UriEncodeExceptSlash)', () => {
    // Prepare
    const path = '/example/测试';

    // Act
    const encoded = uriEncode(path, false);

    // Assess
    expect(encoded).toBe('/example/%E6%B5%8B%E8%AF%95');
  });

  it('agrees with the JS SDK normalize (encodeURIComponent + [!\'()*]) on random well-formed strings', () => {
    // Prepare
    const random = prng(7);
    const pool = "aZ09-._~ !'()*/?#&=+%:;@,$测试数据集😀\u00e9\u0001";
    const chars = Array.from(pool);
    const samples = Array.from({ length: 300 }, () =>
      Array.from({ length: Math.floor(random() * 20) }, () => chars[Math.floor(random() * chars.length)]).join(''),
    );
    const sdkNormalize = (v: string): string =>
      encodeURIComponent(v).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

    // Act
    const mismatches = samples.filter((v) => uriEncode(v) !== sdkNormalize(v));

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('never throws, even on a lone surrogate', () => {
    // Prepare
    const input = 'a\uD800b';

    // Act
    const encoded = uriEncode(input);

    // Assess
    expect(encoded).toBe('a%EF%BF%BDb');
  });
});

describe('Function: formatBceTimestamp', () => {
  it('formats UTC without fractional seconds', () => {
    // Prepare
    const date = new Date('2024-05-01T12:00:00.987Z');

    // Act
    const formatted = formatBceTimestamp(date);

    // Assess
    expect(formatted).toBe(TS);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// sign: spec §5.3 test vectors
// ---------------------------------------------------------------------------------------------------------------

describe('Function: sign (spec §5.3 vectors)', () => {
  const tv1Input: SignInput = {
    method: 'POST',
    path: '/v2/dataset',
    query: { Action: 'DescribeDatasets' },
    headers: { Host: 'qianfan.baidubce.com', 'Content-Type': 'application/json', 'Content-Length': 34, 'x-bce-date': TS },
    accessKeyId: AK,
    secretAccessKey: SK,
    timestamp: T0,
    expirationInSeconds: 1800,
  };

  it('TV1: V2 DescribeDatasets, default header set, JS form', () => {
    // Prepare
    const input = tv1Input;

    // Act
    const result = sign(input);

    // Assess
    expect(result.signingKey).toBe(TV1_SIGNING_KEY);
    expect(result.canonicalRequest).toBe(
      [
        'POST',
        '/v2/dataset',
        'Action=DescribeDatasets',
        'content-length:34',
        'content-type:application%2Fjson',
        'host:qianfan.baidubce.com',
        'x-bce-date:2024-05-01T12%3A00%3A00Z',
      ].join('\n'),
    );
    expect(result.timestamp).toBe(TS);
    expect(result.authorization).toBe(`bce-auth-v1/${AK}/${TS}/1800/content-length;content-type;host;x-bce-date/${TV1_SIGNATURE}`);
  });

  it('TV1: empty signedHeaders (BCEPY with headers_to_sign=None) gives the same signature', () => {
    // Prepare
    const input: SignInput = { ...tv1Input, signedHeaders: [] };

    // Act
    const result = sign(input);

    // Assess
    expect(result.authorization).toBe(`bce-auth-v1/${AK}/${TS}/1800//${TV1_SIGNATURE}`);
  });

  it('TV1: the raw query string form gives the same signature', () => {
    // Prepare
    const input: SignInput = { ...tv1Input, query: 'Action=DescribeDatasets' };

    // Act
    const result = sign(input);

    // Assess
    expect(result.signature).toBe(TV1_SIGNATURE);
  });

  it('TV2: V1 dataset/create, Python-SDK header set, expiration 300', () => {
    // Prepare
    const input: SignInput = {
      method: 'POST',
      path: '/wenxinworkshop/dataset/create',
      headers: {
        'Content-Type': 'application/json',
        Host: 'qianfan.baidubce.com',
        'request-source': 'qianfan_py_sdk_v0.4.12.3',
        'x-bce-date': TS,
      },
      accessKeyId: AK,
      secretAccessKey: SK,
      timestamp: T0,
      expirationInSeconds: 300,
      signedHeaders: ['content-type', 'host', 'request-source', 'x-bce-date'],
    };

    // Act
    const result = sign(input);

    // Assess
    expect(result.signingKey).toBe('920fa923c4c423ddbd24e96eaf1dcc8f510238f31e7c4181abd626537324ebca');
    expect(result.canonicalRequest).toBe(
      [
        'POST',
        '/wenxinworkshop/dataset/create',
        '',
        'content-type:application%2Fjson',
        'host:qianfan.baidubce.com',
        'request-source:qianfan_py_sdk_v0.4.12.3',
        'x-bce-date:2024-05-01T12%3A00%3A00Z',
      ].join('\n'),
    );
    expect(result.authorization).toBe(
      `bce-auth-v1/${AK}/${TS}/300/content-type;host;request-source;x-bce-date/` +
        '77dc5ba2d9d511f78c10159f985cd732300258b70edc4d5bfb3526d77d30ebfb',
    );
  });

  it('TV3: Chinese path, special-character query, non-default port', () => {
    // Prepare
    const input: SignInput = {
      method: 'GET',
      path: '/v2/数据集/a b(1)',
      query: { Action: 'DescribeDatasets', name: '测试 数据/集*~!', empty: '' },
      headers: { Host: 'qianfan.baidubce.com:8443', 'x-bce-date': TS },
      accessKeyId: AK,
      secretAccessKey: SK,
      timestamp: T0,
    };

    // Act
    const result = sign(input);

    // Assess
    expect(result.signingKey).toBe(TV1_SIGNING_KEY);
    expect(result.canonicalRequest).toBe(
      [
        'GET',
        '/v2/%E6%95%B0%E6%8D%AE%E9%9B%86/a%20b%281%29',
        'Action=DescribeDatasets&empty=&name=%E6%B5%8B%E8%AF%95%20%E6%95%B0%E6%8D%AE%2F%E9%9B%86%2A~%21',
        'host:qianfan.baidubce.com%3A8443',
        'x-bce-date:2024-05-01T12%3A00%3A00Z',
      ].join('\n'),
    );
    expect(result.authorization).toBe(
      `bce-auth-v1/${AK}/${TS}/1800/host;x-bce-date/dcb56d269442de690c5ecebbc4bbcadf5096fdd3c4b3ee39b525ef425a9bbb3d`,
    );
  });

  it('null and undefined query values give "key="; authorization is never part of the query', () => {
    // Prepare
    const input: SignInput = { ...tv1Input, query: { Action: 'DescribeDatasets', a: null, b: undefined, AUTHORIZATION: 'x' } };

    // Act
    const result = sign(input);

    // Assess
    expect(result.canonicalRequest.split('\n')[2]).toBe('Action=DescribeDatasets&a=&b=');
  });
});

describe('Function: sign (captured consoleAction vectors, spec §5.3)', () => {
  const cases = [
    {
      name: 'DescribeDatasets',
      path: '/v2/dataset',
      query: { Action: 'DescribeDatasets' },
      body: '{"maxKeys":10,"pageReverse":false}',
      length: 34,
      signature: '108e81b756757d2525b6aca291af81e1b370311afffc6ef74240fbba3a952f68',
    },
    {
      name: 'dataset/info',
      path: '/wenxinworkshop/dataset/info',
      query: undefined,
      body: '{"datasetId":"ds-abc"}',
      length: 22,
      signature: '3bc157a4f935f980340f9707d74c35057b66d1e2c9fd6fde9e216dc949eab4bb',
    },
    {
      name: 'CreateDataset',
      path: '/v2/dataset',
      query: { Action: 'CreateDataset' },
      body: CREATE_DATASET_BODY,
      length: 90,
      signature: 'c8d3cd4640647b7c72c5675483fd34b24c94ce117c5528d03dde73fcf519edc0',
    },
  ];

  for (const c of cases) {
    it(`${c.name}: body of ${c.length} bytes signs as captured`, () => {
      // Prepare
      const headers = consoleHeaders(c.body);

      // Act
      const result = sign({
        method: 'POST',
        path: c.path,
        ...(c.query ? { query: c.query } : {}),
        headers,
        accessKeyId: AK,
        secretAccessKey: SK,
        timestamp: T0,
      });

      // Assess
      expect(Buffer.byteLength(c.body, 'utf8')).toBe(c.length);
      expect(result.authorization).toBe(`bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/${c.signature}`);
    });

    it(`${c.name}: the captured wire request verifies`, async () => {
      // Prepare
      const authorization = `bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/${c.signature}`;
      const req = wireRequest(authorization, {
        rawPath: c.path,
        ...(c.query ? { rawQueryString: `Action=${c.query.Action}` } : {}),
        headers: consoleHeaders(c.body),
        body: c.body,
      });

      // Act
      const result = await verify(req, options());

      // Assess
      expect(result).toEqual({
        accessKeyId: AK,
        credential: CREDENTIAL,
        timestamp: T0,
        signedHeaders: ['content-length', 'content-type', 'host', 'x-bce-date'],
      });
    });
  }

  it('Action "测试 (1)": strict decode and re-encode of the wire query verifies', async () => {
    // Prepare
    const signature = 'f86cfcdc1619025a7ac747854b651bd15fcb066d2e773ce36398b15d19869b9e';
    const input: SignInput = {
      method: 'POST',
      path: '/v2/dataset',
      query: { Action: '测试 (1)' },
      headers: consoleHeaders('{}'),
      accessKeyId: AK,
      secretAccessKey: SK,
      timestamp: T0,
    };
    const req = wireRequest(`bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/${signature}`, {
      rawPath: '/v2/dataset',
      rawQueryString: 'Action=%E6%B5%8B%E8%AF%95%20(1)',
      headers: consoleHeaders('{}'),
      body: '{}',
    });

    // Act
    const signed = sign(input);
    const verified = await verify(req, options());

    // Assess
    expect(signed.canonicalRequest.split('\n')[2]).toBe('Action=%E6%B5%8B%E8%AF%95%20%281%29');
    expect(signed.signature).toBe(signature);
    expect(verified.accessKeyId).toBe(AK);
  });

  it('route /v2/数据集/a b(1): signs with the raw wire path and verifies only through it', async () => {
    // Prepare
    // The spec's table leaves it out, but the captured call also carried ?Action=DescribeDatasets: only with it
    // do the captured 437189de… and da09385e… come out.
    const wirePath = '/v2/%E6%95%B0%E6%8D%AE%E9%9B%86/a%20b(1)';
    const signature = '437189de766ba96566abf16ceaa49a362ee38d0449c0b040ba8200f24c8bace6';
    const base = {
      method: 'POST',
      query: { Action: 'DescribeDatasets' },
      headers: consoleHeaders('{}'),
      accessKeyId: AK,
      secretAccessKey: SK,
      timestamp: T0,
    };
    const req = wireRequest(`bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/${signature}`, {
      rawPath: wirePath,
      rawQueryString: 'Action=DescribeDatasets',
      headers: consoleHeaders('{}'),
      body: '{}',
    });

    // Act
    const raw = sign({ ...base, path: wirePath, rawPath: true });
    const strict = sign({ ...base, path: '/v2/数据集/a b(1)' });
    const verified = await verify(req, options());

    // Assess
    expect(raw.signature).toBe(signature);
    expect(strict.signature.startsWith('da09385e')).toBe(true);
    expect(verified.accessKeyId).toBe(AK);
  });

  it('Java request: signed with the host without port, verifies against Host 127.0.0.1:8866', async () => {
    // Prepare: the spec truncates the captured signature to 18947abf…df06c; this is the full value it belongs to.
    const javaTs = '2026-11-21T19:10:57Z';
    const fullSignature = '18947abf55b58637459a9a711ef0a61f81874c3554d5d81a768fdc23b00df06c';
    const input: SignInput = {
      method: 'POST',
      path: '/v2/dataset',
      query: { Action: 'DescribeDatasets' },
      headers: { host: '127.0.0.1', 'x-bce-date': javaTs },
      accessKeyId: AK,
      secretAccessKey: SK,
      timestamp: new Date(javaTs),
      signedHeaders: ['host', 'x-bce-date'],
    };
    const wireHeaders = {
      host: '127.0.0.1:8866',
      'x-bce-date': javaTs,
      'content-type': 'application/json; charset=UTF-8',
    };

    // Act
    const signed = sign(input);
    const withPort = sign({ ...input, headers: { ...input.headers, host: '127.0.0.1:8866' } });
    const verified = await verify(
      wireRequest(signed.authorization, { rawPath: '/v2/dataset', rawQueryString: 'Action=DescribeDatasets', headers: wireHeaders }),
      options({ now: new Date(javaTs) }),
    );

    // Assess
    expect(signed.authorization).toBe(`bce-auth-v1/${AK}/${javaTs}/1800/host;x-bce-date/${fullSignature}`);
    expect(signed.signature.startsWith('18947abf')).toBe(true);
    expect(signed.signature.endsWith('df06c')).toBe(true);
    expect(withPort.signature).not.toBe(signed.signature);
    expect(verified.signedHeaders).toEqual(['host', 'x-bce-date']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// verify: what the official clients send
// ---------------------------------------------------------------------------------------------------------------

describe('Function: verify (client quirks)', () => {
  const pythonHeaders = {
    'content-type': 'application/json',
    host: '127.0.0.1:8866',
    'request-source': 'qianfan_py_sdk_v0.4.12.3',
    'x-bce-date': TS,
  };
  const pythonNames = ['content-type', 'host', 'request-source', 'x-bce-date'];

  it('round-trips sign → verify with the default header set', async () => {
    // Prepare
    const { req } = signedRequest({ method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' }, headers: consoleHeaders('{}') }, {
      rawQueryString: 'Action=DescribeDatasets',
    });

    // Act
    const result = await verify(req, options());

    // Assess
    expect(result.accessKeyId).toBe(AK);
    expect(result.credential).toBe(CREDENTIAL);
  });

  it('accepts an empty signedHeaders field (default set)', async () => {
    // Prepare
    const { req } = signedRequest(
      { method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' }, headers: consoleHeaders('{}'), signedHeaders: [] },
      { rawQueryString: 'Action=DescribeDatasets' },
    );

    // Act
    const result = await verify(req, options());

    // Assess
    expect(result.signedHeaders).toEqual(['content-length', 'content-type', 'host', 'x-bce-date']);
  });

  it('accepts the Python signedHeaders in every order, with duplicates and any case', async () => {
    // Prepare
    const { req, signature } = signedRequest({
      method: 'POST',
      path: '/wenxinworkshop/dataset/create',
      headers: pythonHeaders,
      expirationInSeconds: 300,
      signedHeaders: pythonNames,
    });
    const orders = permutations(pythonNames).map((names) => names.join(';'));
    orders.push('X-BCE-DATE;Content-Type;HOST;request-source;host');

    // Act
    const results = await Promise.all(
      orders.map((names) => verify(withAuthorization(req, `bce-auth-v1/${AK}/${TS}/300/${names}/${signature}`), options())),
    );

    // Assess
    expect(orders).toHaveLength(25);
    for (const result of results) expect(result.signedHeaders).toEqual(pythonNames);
  });

  it('tolerates the Python quirk: an x-bce-* header canonicalised but left out of the list', async () => {
    // Prepare
    const { req, signature } = signedRequest({
      method: 'POST',
      path: '/wenxinworkshop/dataset/create',
      headers: pythonHeaders,
      expirationInSeconds: 300,
      signedHeaders: pythonNames,
    });
    const authorization = `bce-auth-v1/${AK}/${TS}/300/request-source;host;content-type/${signature}`;

    // Act
    const result = await verify(withAuthorization(req, authorization), options());

    // Assess
    expect(result.signedHeaders).toEqual(pythonNames);
  });

  it('decodes "+" in the query as a space (Python requests)', async () => {
    // Prepare
    const spaced = signedRequest({ method: 'POST', path: '/v2/dataset', query: { q: 'a b' }, headers: consoleHeaders('{}') }, {
      rawQueryString: 'q=a+b',
    });
    const plus = signedRequest({ method: 'POST', path: '/v2/dataset', query: { q: 'a+b' }, headers: consoleHeaders('{}') }, {
      rawQueryString: 'q=a%2Bb',
    });

    // Act
    const results = await Promise.all([
      verify(spaced.req, options()),
      verify({ ...spaced.req, rawQueryString: 'q=a%20b' }, options()),
      verify(plus.req, options()),
    ]);
    const literalPlus = verify({ ...plus.req, rawQueryString: 'q=a+b' }, options());

    // Assess
    expect(results.map((r) => r.accessKeyId)).toEqual([AK, AK, AK]);
    await rejection(literalPlus, SignatureDoesNotMatchError);
  });

  it('verifies when serverless-offline rebuilt Describe%20Datasets(1) as Describe+Datasets%281%29', async () => {
    // Prepare: the JS client sends ?Action=Describe%20Datasets(1) and signs its strict re-encoding.
    const { req } = signedRequest(
      { method: 'POST', path: '/v2/dataset', query: 'Action=Describe%20Datasets(1)', headers: consoleHeaders('{}') },
      { rawQueryString: 'Action=Describe+Datasets%281%29' },
    );

    // Act
    const rebuilt = await verify(req, options());
    const asSent = await verify({ ...req, rawQueryString: '?Action=Describe%20Datasets(1)' }, options());

    // Assess
    expect(rebuilt.accessKeyId).toBe(AK);
    expect(asSent.accessKeyId).toBe(AK);
  });

  it('strips the port of a bracketed IPv6 host (Go / Java style)', async () => {
    // Prepare
    const { authorization } = signedRequest({ method: 'POST', path: '/v2/dataset', headers: { host: '[::1]', 'x-bce-date': TS } });
    const req = wireRequest(authorization, { rawPath: '/v2/dataset', headers: { host: '[::1]:8866', 'x-bce-date': TS } });

    // Act
    const result = await verify(req, options());

    // Assess
    expect(result.accessKeyId).toBe(AK);
  });

  it('ignores an unsigned content-md5, since the client did not sign it', async () => {
    // Prepare
    const headers = { host: CONSOLE_HOST, 'x-bce-date': TS, 'content-md5': 'bm90LXRoZS1tZDU=' };
    const { req } = signedRequest({ method: 'POST', path: '/v2/dataset', headers, signedHeaders: ['host', 'x-bce-date'] }, { body: 'x' });

    // Act
    const result = await verify(req, options());

    // Assess
    expect(result.signedHeaders).toEqual(['host', 'x-bce-date']);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// verify: time window
// ---------------------------------------------------------------------------------------------------------------

describe('Function: verify (time window)', () => {
  function requestWithExpiration(expirationInSeconds: number): VerifyRequest {
    return signedRequest({ method: 'POST', path: '/v2/dataset', headers: consoleHeaders('{}'), expirationInSeconds }).req;
  }
  const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);

  it('accepts up to ts + expiration and refuses one second later', async () => {
    // Prepare
    const req = requestWithExpiration(1800);

    // Act
    const atLimit = await verify(req, options({ now: at(1800) }));
    const error = await rejection(verify(req, options({ now: at(1801) })), RequestExpiredError);

    // Assess
    expect(atLimit.accessKeyId).toBe(AK);
    expect(error.status).toBe(400);
    expect(error.code).toBe('RequestExpired');
    expect(error.message).toBe('Request has expired. Timestamp date is 2024-05-01T12:00:00Z.');
  });

  it('caps an expiration of 180000 s at maxLifetimeSeconds (default 3600)', async () => {
    // Prepare
    const req = requestWithExpiration(180000);

    // Act
    const atCap = await verify(req, options({ now: at(3600) }));
    const pastCap = rejection(verify(req, options({ now: at(3601) })), RequestExpiredError);
    const customCap = await verify(req, options({ now: at(7200), maxLifetimeSeconds: 7200 }));
    const pastCustomCap = rejection(verify(req, options({ now: at(7201), maxLifetimeSeconds: 7200 })), RequestExpiredError);

    // Assess
    expect(atCap.accessKeyId).toBe(AK);
    expect(customCap.accessKeyId).toBe(AK);
    await pastCap;
    await pastCustomCap;
  });

  it('accepts a timestamp up to 900 s in the future and refuses one second more', async () => {
    // Prepare
    const req = requestWithExpiration(1800);

    // Act
    const atSkew = await verify(req, options({ now: at(-900) }));
    const error = await rejection(verify(req, options({ now: at(-901) })), RequestExpiredError);
    const customSkew = rejection(verify(req, options({ now: at(-60), maxFutureSkewSeconds: 59 })), RequestExpiredError);

    // Assess
    expect(atSkew.accessKeyId).toBe(AK);
    expect(error.message).toBe('Request has expired. Timestamp date is 2024-05-01T12:00:00Z.');
    await customSkew;
  });

  it('an expiration of 0 is valid only at the very second of the timestamp', async () => {
    // Prepare
    const req = requestWithExpiration(0);

    // Act
    const same = await verify(req, options({ now: T0 }));
    const later = rejection(verify(req, options({ now: at(1) })), RequestExpiredError);

    // Assess
    expect(same.accessKeyId).toBe(AK);
    await later;
  });

  it('checks the time window before the signature, and the key before the time window', async () => {
    // Prepare
    const req = requestWithExpiration(1800);
    const badSignature = withAuthorization(req, `bce-auth-v1/${AK}/${TS}/1800//${'0'.repeat(64)}`);
    const unknownKey = withAuthorization(req, `bce-auth-v1/nobody/${TS}/1800//${'0'.repeat(64)}`);

    // Act
    const expiredBad = rejection(verify(badSignature, options({ now: at(4000) })), RequestExpiredError);
    const unknownExpired = rejection(verify(unknownKey, options({ now: at(4000) })), InvalidAccessKeyIdError);

    // Assess
    await expiredBad;
    await unknownExpired;
  });
});

// ---------------------------------------------------------------------------------------------------------------
// verify: refusals
// ---------------------------------------------------------------------------------------------------------------

describe('Function: verify (refusals)', () => {
  const good = signedRequest(
    { method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' }, headers: consoleHeaders('{}') },
    { rawQueryString: 'Action=DescribeDatasets', body: '{}' },
  );
  const sig = good.signature;

  const malformed: [string, string | undefined][] = [
    ['missing', undefined],
    ['empty', ''],
    ['not bce', `Bearer ${sig}`],
    ['five parts', `bce-auth-v1/${AK}/${TS}/1800/${sig}`],
    ['seven parts', `bce-auth-v1/${AK}/${TS}/1800/host/x/${sig}`],
    ['other version', `bce-auth-v2/${AK}/${TS}/1800//${sig}`],
    ['upper-case version', `BCE-AUTH-V1/${AK}/${TS}/1800//${sig}`],
    ['empty access key', `bce-auth-v1//${TS}/1800//${sig}`],
    ['space in timestamp', `bce-auth-v1/${AK}/2024-05-01 12:00:00Z/1800//${sig}`],
    ['fractional timestamp', `bce-auth-v1/${AK}/2024-05-01T12:00:00.000Z/1800//${sig}`],
    ['offset timestamp', `bce-auth-v1/${AK}/2024-05-01T12:00:00+08:00/1800//${sig}`],
    ['impossible date', `bce-auth-v1/${AK}/2024-02-30T12:00:00Z/1800//${sig}`],
    ['second 60', `bce-auth-v1/${AK}/2024-05-01T12:00:60Z/1800//${sig}`],
    ['negative expiration', `bce-auth-v1/${AK}/${TS}/-1//${sig}`],
    ['fractional expiration', `bce-auth-v1/${AK}/${TS}/1.5//${sig}`],
    ['empty expiration', `bce-auth-v1/${AK}/${TS}///${sig}`],
    ['expiration 2^31 + 1', `bce-auth-v1/${AK}/${TS}/2147483649//${sig}`],
    ['huge expiration', `bce-auth-v1/${AK}/${TS}/${'9'.repeat(400)}//${sig}`],
    ['upper-case hex signature', `bce-auth-v1/${AK}/${TS}/1800//${sig.toUpperCase()}`],
    ['short signature', `bce-auth-v1/${AK}/${TS}/1800//${sig.slice(1)}`],
    ['non-hex signature', `bce-auth-v1/${AK}/${TS}/1800//${'g'.repeat(64)}`],
    ['host not signed', `bce-auth-v1/${AK}/${TS}/1800/content-type;x-bce-date/${sig}`],
    ['empty name in list', `bce-auth-v1/${AK}/${TS}/1800/host;;x-bce-date/${sig}`],
    ['bad header name', `bce-auth-v1/${AK}/${TS}/1800/host;x bce:date/${sig}`],
    ['over-long header', `bce-auth-v1/${AK}/${TS}/1800/${'host;'.repeat(2000)}host/${sig}`],
  ];

  for (const [name, authorization] of malformed) {
    it(`refuses a malformed Authorization (${name}) with InvalidHTTPAuthHeader before any lookup`, async () => {
      // Prepare
      const headers = { ...good.req.headers };
      if (authorization === undefined) delete headers.authorization;
      else headers.authorization = authorization;
      let lookups = 0;
      const opts = options({
        lookup: async () => {
          lookups++;
          return { secretAccessKey: SK, credential: CREDENTIAL };
        },
      });

      // Act
      const error = await rejection(verify({ ...good.req, headers }, opts), InvalidHTTPAuthHeaderError);

      // Assess
      expect(error.status).toBe(400);
      expect(error.code).toBe('InvalidHTTPAuthHeader');
      expect(lookups).toBe(0);
    });
  }

  it('fuzz: random and mutated Authorization values only ever give InvalidHTTPAuthHeader, quickly', async () => {
    // Prepare
    const random = prng(20240501);
    const alphabet = 'bce-auth-v1/;:0123456789abcdefTZ -_.~%测\u0000\uD800+=';
    const pick = (s: string): string => s[Math.floor(random() * s.length)] as string;
    const randomString = (max: number): string => Array.from({ length: Math.floor(random() * max) }, () => pick(alphabet)).join('');
    const valid = [`bce-auth-v1`, AK, TS, '1800', CONSOLE_SIGNED, sig];
    const breakers: ((parts: string[]) => void)[] = [
      (p) => p.splice(Math.floor(random() * p.length), 1),
      (p) => p.push(randomString(5)),
      (p) => (p[0] = `bce-auth-v${Math.floor(random() * 10) + 2}`),
      (p) => (p[2] = randomString(25) || 'x'),
      (p) => (p[3] = `-${randomString(4)}`),
      (p) => (p[5] = (p[5] as string).slice(0, Math.floor(random() * 64)) + 'G'),
      (p) => (p[4] = `${randomString(6)} ;x-bce-date`),
    ];
    const inputs: string[] = [];
    for (let i = 0; i < 300; i++) inputs.push(randomString(120));
    for (let i = 0; i < 300; i++) {
      const parts = [...valid];
      (breakers[i % breakers.length] as (p: string[]) => void)(parts);
      inputs.push(parts.join('/'));
    }
    const started = performance.now();

    // Act
    const outcomes = await Promise.all(
      inputs.map((authorization) =>
        verify(withAuthorization(good.req, authorization), options()).then(
          () => 'accepted',
          (e: unknown) => (e instanceof InvalidHTTPAuthHeaderError ? 'invalid' : `unexpected: ${String(e)}`),
        ),
      ),
    );
    const elapsed = performance.now() - started;

    // Assess
    expect(outcomes.filter((o) => o !== 'invalid')).toEqual([]);
    expect(elapsed).toBeLessThan(1000);
  });

  it('refuses an unknown access key with InvalidAccessKeyId (403)', async () => {
    // Prepare
    const req = withAuthorization(good.req, good.authorization.replace(AK, 'unknown-ak'));

    // Act
    const error = await rejection(verify(req, options()), InvalidAccessKeyIdError);

    // Assess
    expect(error.status).toBe(403);
    expect(error.code).toBe('InvalidAccessKeyId');
  });

  it('refuses a wrong secret with SignatureDoesNotMatch, never revealing the secret or the expected signature', async () => {
    // Prepare
    const wrongSecret = 'wrong-secret-789';
    const forged = signedRequest({ method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' }, headers: consoleHeaders('{}') }, {
      rawQueryString: 'Action=DescribeDatasets',
    });
    const reSigned = sign({
      method: 'POST',
      path: '/v2/dataset',
      query: { Action: 'DescribeDatasets' },
      headers: consoleHeaders('{}'),
      accessKeyId: AK,
      secretAccessKey: wrongSecret,
      timestamp: T0,
    });
    const req = withAuthorization(forged.req, reSigned.authorization);

    // Act
    const error = await rejection(verify(req, options()), SignatureDoesNotMatchError);

    // Assess
    expect(error.status).toBe(403);
    expect(error.code).toBe('SignatureDoesNotMatch');
    for (const secretish of [SK, wrongSecret, forged.signature, reSigned.signingKey, 'x-bce-date:', 'application%2Fjson']) {
      expect(error.message).not.toContain(secretish);
      expect(JSON.stringify(error)).not.toContain(secretish);
    }
  });

  it('refuses a tampered method, path, query, host or signed header', async () => {
    // Prepare
    const defaultSetAuthorization = good.authorization.replace(`/${CONSOLE_SIGNED}/`, '//');
    await verify(withAuthorization(good.req, defaultSetAuthorization), options());
    const tampered: VerifyRequest[] = [
      { ...good.req, method: 'PUT' },
      { ...good.req, rawPath: '/v2/datasets' },
      { ...good.req, rawQueryString: 'Action=DeleteDataset' },
      { ...good.req, rawQueryString: 'Action=DescribeDatasets&x=1' },
      { ...good.req, headers: { ...good.req.headers, host: 'evil.example:8866' } },
      { ...good.req, headers: { ...good.req.headers, 'content-length': '35' } },
      { ...good.req, headers: { ...good.req.headers, 'x-bce-date': '2024-05-01T12:00:01Z' } },
      // With the default set (empty signedHeaders field) every x-bce-* header present is signed, so one added later
      // breaks the signature. (With an explicit list, an unlisted header is simply unsigned.)
      withAuthorization({ ...good.req, headers: { ...good.req.headers, 'x-bce-extra': 'added' } }, defaultSetAuthorization),
    ];

    // Act
    const outcomes = tampered.map((req) => rejection(verify(req, options()), SignatureDoesNotMatchError));

    // Assess
    await Promise.all(outcomes);
  });

  it('refuses a request with no Host header with SignatureDoesNotMatch', async () => {
    // Prepare
    const headers = { ...good.req.headers };
    delete headers.host;

    // Act
    const error = rejection(verify({ ...good.req, headers }, options()), SignatureDoesNotMatchError);

    // Assess
    await error;
  });

  it('treats bad percent-encoding in the path or query as a plain mismatch', async () => {
    // Prepare
    const bad = ['%', '%zz', '%E6%B5', '%FF%FE', 'a%2', '%%41'];
    const requests = bad.flatMap((s) => [
      { ...good.req, rawPath: `/v2/${s}` },
      { ...good.req, rawQueryString: `Action=${s}` },
      { ...good.req, rawQueryString: `${s}=1&Action=DescribeDatasets` },
    ]);

    // Act
    const outcomes = requests.map((req) => rejection(verify(req, options()), SignatureDoesNotMatchError));

    // Assess
    await Promise.all(outcomes);
  });

  it('verifies a client that signed a literal "%zz" path segment sent as-is', async () => {
    // Prepare
    const { req } = signedRequest({ method: 'POST', path: '/v2/%zz', rawPath: true, headers: consoleHeaders('{}') });

    // Act
    const result = await verify(req, options());

    // Assess
    expect(result.accessKeyId).toBe(AK);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// verify: signed body digests
// ---------------------------------------------------------------------------------------------------------------

describe('Function: verify (signed body digests)', () => {
  const body = CREATE_DATASET_BODY;

  it('checks a signed x-bce-content-sha256 against the body', async () => {
    // Prepare
    const sha256 = createHash('sha256').update(body, 'utf8').digest('hex');
    const { req } = signedRequest(
      { method: 'POST', path: '/v2/dataset', query: { Action: 'CreateDataset' }, headers: { ...consoleHeaders(body), 'x-bce-content-sha256': sha256 } },
      { rawQueryString: 'Action=CreateDataset', body },
    );
    const tamperedBody = body.replace('测试', '攻击');

    // Act
    const result = await verify(req, options());
    const error = await rejection(verify({ ...req, body: tamperedBody }, options()), SignatureDoesNotMatchError);
    const bytesResult = await verify({ ...req, body: Buffer.from(body, 'utf8') }, options());

    // Assess
    expect(result.signedHeaders).toContain('x-bce-content-sha256');
    expect(bytesResult.accessKeyId).toBe(AK);
    expect(error.message).not.toContain(sha256);
  });

  it('checks a signed content-md5 against the body', async () => {
    // Prepare
    const md5 = createHash('md5').update(body, 'utf8').digest('base64');
    const { req } = signedRequest(
      { method: 'POST', path: '/v2/dataset', query: { Action: 'CreateDataset' }, headers: { ...consoleHeaders(body), 'Content-MD5': md5 } },
      { rawQueryString: 'Action=CreateDataset', body },
    );

    // Act
    const result = await verify(req, options());
    const tampered = rejection(verify({ ...req, body: body.replace('sysStorage', 'usrStorage') }, options()), SignatureDoesNotMatchError);
    const missing = rejection(verify({ ...req, body: undefined }, options()), SignatureDoesNotMatchError);

    // Assess
    expect(result.signedHeaders).toContain('content-md5');
    await tampered;
    await missing;
  });
});

// ---------------------------------------------------------------------------------------------------------------
// The browser signer (WebCrypto HMAC over the shared canonical request): the same vectors, the same results
// ---------------------------------------------------------------------------------------------------------------

describe('Function: signInBrowser (WebCrypto; spec §5.3 vectors)', () => {
  const vectors: { name: string; input: SignInput; authorization: string; signingKey?: string }[] = [
    {
      name: 'TV1: V2 DescribeDatasets, default header set',
      input: {
        method: 'POST',
        path: '/v2/dataset',
        query: { Action: 'DescribeDatasets' },
        headers: { Host: 'qianfan.baidubce.com', 'Content-Type': 'application/json', 'Content-Length': 34, 'x-bce-date': TS },
        accessKeyId: AK,
        secretAccessKey: SK,
        timestamp: T0,
        expirationInSeconds: 1800,
      },
      signingKey: TV1_SIGNING_KEY,
      authorization: `bce-auth-v1/${AK}/${TS}/1800/content-length;content-type;host;x-bce-date/${TV1_SIGNATURE}`,
    },
    {
      name: 'TV1 in the BCEPY form (empty signedHeaders)',
      input: {
        method: 'POST',
        path: '/v2/dataset',
        query: 'Action=DescribeDatasets',
        headers: { Host: 'qianfan.baidubce.com', 'Content-Type': 'application/json', 'Content-Length': 34, 'x-bce-date': TS },
        accessKeyId: AK,
        secretAccessKey: SK,
        timestamp: T0,
        signedHeaders: [],
      },
      authorization: `bce-auth-v1/${AK}/${TS}/1800//${TV1_SIGNATURE}`,
    },
    {
      name: 'TV2: V1 dataset/create, Python-SDK header set, expiration 300',
      input: {
        method: 'POST',
        path: '/wenxinworkshop/dataset/create',
        headers: { 'Content-Type': 'application/json', Host: 'qianfan.baidubce.com', 'request-source': 'qianfan_py_sdk_v0.4.12.3', 'x-bce-date': TS },
        accessKeyId: AK,
        secretAccessKey: SK,
        timestamp: T0,
        expirationInSeconds: 300,
        signedHeaders: ['content-type', 'host', 'request-source', 'x-bce-date'],
      },
      signingKey: '920fa923c4c423ddbd24e96eaf1dcc8f510238f31e7c4181abd626537324ebca',
      authorization: `bce-auth-v1/${AK}/${TS}/300/content-type;host;request-source;x-bce-date/77dc5ba2d9d511f78c10159f985cd732300258b70edc4d5bfb3526d77d30ebfb`,
    },
    {
      name: 'TV3: Chinese path, special-character query, non-default port',
      input: {
        method: 'GET',
        path: '/v2/数据集/a b(1)',
        query: { Action: 'DescribeDatasets', name: '测试 数据/集*~!', empty: '' },
        headers: { Host: 'qianfan.baidubce.com:8443', 'x-bce-date': TS },
        accessKeyId: AK,
        secretAccessKey: SK,
        timestamp: T0,
      },
      signingKey: TV1_SIGNING_KEY,
      authorization: `bce-auth-v1/${AK}/${TS}/1800/host;x-bce-date/dcb56d269442de690c5ecebbc4bbcadf5096fdd3c4b3ee39b525ef425a9bbb3d`,
    },
    {
      name: 'captured consoleAction CreateDataset (90 UTF-8 bytes of Chinese body)',
      input: { method: 'POST', path: '/v2/dataset', query: { Action: 'CreateDataset' }, headers: consoleHeaders(CREATE_DATASET_BODY), accessKeyId: AK, secretAccessKey: SK, timestamp: T0 },
      authorization: `bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/c8d3cd4640647b7c72c5675483fd34b24c94ce117c5528d03dde73fcf519edc0`,
    },
    {
      name: 'captured consoleAction Action "测试 (1)"',
      input: { method: 'POST', path: '/v2/dataset', query: { Action: '测试 (1)' }, headers: consoleHeaders('{}'), accessKeyId: AK, secretAccessKey: SK, timestamp: T0 },
      authorization: `bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/f86cfcdc1619025a7ac747854b651bd15fcb066d2e773ce36398b15d19869b9e`,
    },
    {
      name: 'captured consoleAction on the raw wire path /v2/%E6…/a%20b(1)',
      input: {
        method: 'POST',
        path: '/v2/%E6%95%B0%E6%8D%AE%E9%9B%86/a%20b(1)',
        rawPath: true,
        query: { Action: 'DescribeDatasets' },
        headers: consoleHeaders('{}'),
        accessKeyId: AK,
        secretAccessKey: SK,
        timestamp: T0,
      },
      authorization: `bce-auth-v1/${AK}/${TS}/1800/${CONSOLE_SIGNED}/437189de766ba96566abf16ceaa49a362ee38d0449c0b040ba8200f24c8bace6`,
    },
  ];

  for (const v of vectors) {
    it(`${v.name}: the spec's Authorization, equal to the Node signer's result`, async () => {
      // Prepare
      const input = v.input;

      // Act
      const browser = await signInBrowser(input);
      const node = sign(input);

      // Assess
      expect(browser.authorization).toBe(v.authorization);
      if (v.signingKey) expect(browser.signingKey).toBe(v.signingKey);
      expect(browser).toEqual(node);
    });
  }

  it('agrees with the Node signer on random inputs (paths, queries, header values in any script)', async () => {
    // Prepare
    const random = prng(17);
    const pick = (chars: string, n: number) => Array.from({ length: n }, () => chars[Math.floor(random() * chars.length)]).join('');
    const alphabet = "abcXYZ019-._~ !'()*/:%+&=测试数据😀é";
    const inputs: SignInput[] = Array.from({ length: 40 }, () => ({
      method: random() < 0.5 ? 'post' : 'GET',
      path: `/${pick(alphabet, 1 + Math.floor(random() * 12))}`,
      query: { [pick(alphabet, 1 + Math.floor(random() * 5))]: pick(alphabet, Math.floor(random() * 8)), Action: 'X' },
      headers: { host: `h${pick('abc', 3)}:${Math.floor(random() * 65535)}`, 'x-bce-date': TS, 'x-bce-meta': pick(alphabet, 6), 'content-type': 'application/json' },
      accessKeyId: pick('abcdef0123', 10),
      secretAccessKey: pick(alphabet, 16),
      timestamp: T0,
      expirationInSeconds: Math.floor(random() * 3600),
    }));

    // Act
    const results = await Promise.all(inputs.map(async (input) => ({ browser: await signInBrowser(input), node: sign(input) })));

    // Assess
    for (const { browser, node } of results) expect(browser).toEqual(node);
  });

  it('a browser signature verifies on the server side (verify), and a changed secret does not', async () => {
    // Prepare
    const body = '{"maxKeys":10,"pageReverse":false}';
    const signed = await signInBrowser({ method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' }, headers: consoleHeaders(body), accessKeyId: AK, secretAccessKey: SK, timestamp: T0 });
    const wrong = await signInBrowser({ method: 'POST', path: '/v2/dataset', query: { Action: 'DescribeDatasets' }, headers: consoleHeaders(body), accessKeyId: AK, secretAccessKey: `${SK}x`, timestamp: T0 });
    const wire = (authorization: string) => wireRequest(authorization, { rawPath: '/v2/dataset', rawQueryString: 'Action=DescribeDatasets', headers: consoleHeaders(body), body });

    // Act
    const verified = await verify(wire(signed.authorization), options());
    const refused = await rejection(verify(wire(wrong.authorization), options()), SignatureDoesNotMatchError);

    // Assess
    expect(verified.signedHeaders).toEqual(['content-length', 'content-type', 'host', 'x-bce-date']);
    expect(refused.code).toBe('SignatureDoesNotMatch');
  });

  it('utf8 (no Buffer, for the browser) gives the bytes Buffer gives: ASCII, CJK, emoji, lone surrogates', () => {
    // Prepare
    const random = prng(5);
    const alphabet = ['a', 'Z', '0', '/', '%', ' ', '\u007f', '\u0080', 'é', '测', '😀', '\ud800', '\udfff'];
    const strings = ['', 'plain-ascii', ...Array.from({ length: 200 }, () => Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(''))];

    // Act
    const mismatches = strings.filter((s) => !Buffer.from(utf8(s)).equals(Buffer.from(s, 'utf8')));

    // Assess
    expect(mismatches).toEqual([]);
  });

  it('hmacHexWebCrypto is HMAC-SHA256 over UTF-8 (RFC 4231 case 2, and a non-ASCII key)', async () => {
    // Prepare
    const { createHmac } = await import('node:crypto');

    // Act
    const rfc = await hmacHexWebCrypto('Jefe', 'what do ya want for nothing?');
    const utf8Key = await hmacHexWebCrypto('密钥😀', '消息');

    // Assess
    expect(rfc).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    expect(utf8Key).toBe(createHmac('sha256', '密钥😀').update('消息', 'utf8').digest('hex'));
  });

  it('rejects the programming errors sign throws: no host, an access key with "/", a bad expiration', async () => {
    // Prepare
    const base: SignInput = { method: 'POST', path: '/', headers: { host: 'h' }, accessKeyId: AK, secretAccessKey: SK };

    // Act & Assess
    await expect(signInBrowser({ ...base, headers: {} })).rejects.toThrow(/host/);
    await expect(signInBrowser({ ...base, accessKeyId: 'a/b' })).rejects.toThrow(/accessKeyId/);
    await expect(signInBrowser({ ...base, expirationInSeconds: -1 })).rejects.toThrow(/expirationInSeconds/);
  });
});
