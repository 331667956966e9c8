/**
 * `node scripts/run.mjs scripts/openapi.ts [--check]` (`npm run openapi`): writes docs/openapi.json, the OpenAPI 3.1
 * description of qfdata's wire API, generated from the operations' zod input schemas (request bodies, input side:
 * what a client may send), the envelopes of `shared/http/envelope.ts`, the error table of `shared/errors.ts`, and each
 * operation's permission (`needs`) with the policies of `shared/keys/policies.ts`.
 * With `--check` it writes nothing and fails when the file is not what it would write (test/unit/openapi.test.ts
 * makes the same comparison).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import * as errors from '../shared/errors.js';
import type { Contract, ExampleIds } from '../shared/api/contract.js';
import { REGISTRY } from '../shared/api/registry.js';
import { fileOf, ROUTES, type ActionRoute, type RouteName } from '../shared/api/routes.js';
import { PERMISSIONS, POLICIES } from '../shared/keys/policies.js';

/** What the document says of each Action route beyond the registry (its tag, summary and notes). */
interface ActionRouteDoc {
  name: Exclude<RouteName, PathRouteName>;
  operationId: string;
  tag: string;
  summary: string;
  /** Said of the route after the common description. */
  note: string;
}

const ACTION_ROUTES: readonly ActionRouteDoc[] = [
  { name: 'dataset', operationId: 'v2Dataset', tag: 'v2', summary: 'V2 dataset actions, selected by the Action query parameter.', note: '' },
  {
    name: 'accessKey',
    operationId: 'v2AccessKey',
    tag: 'keys',
    summary: 'Access-key actions (a qfdata extension), selected by the Action query parameter.',
    note:
      "A qfdata extension: Qianfan manages keys in Baidu Cloud's IAM console. The actions manage the signing key's own " +
      'account\'s keys; another account\'s key answers `ResourceNotFound` as a key that does not exist. A key\'s ' +
      '`secretAccessKey` appears only in the answer to the `CreateAccessKey` or `RotateAccessKey` that made it. ' +
      '`clientToken` is not honoured here (a retried create must not hand a secret out twice). ',
  },
  {
    name: 'bucket',
    operationId: 'v2Bucket',
    tag: 'buckets',
    summary: 'Bucket actions (a qfdata extension), selected by the Action query parameter.',
    note:
      'A qfdata extension: buckets belong to accounts. An account may name a bucket (in imports, datasets and exports) only ' +
      'if it owns it or was granted it; the platform bucket is nobody\'s. ',
  },
];

/** The ids the document's examples name. */
const EXAMPLE_IDS: ExampleIds = {
  datasetId: 'dg-0mxa7h3q4k2b9c1d',
  versionId: 'ds-0mxa7h3q4k2b9c1e',
  importTaskId: 'task-0mxa7h3q4k2b9c1f',
  exportTaskId: 'task-0mxa7h3q4k2b9c1g',
  scheduleId: 'sch-0mxa7h3q4k2b9c1h',
  accessKeyId: '0123456789abcdef0123456789abcdef',
  sampleId: 'task-0mxa7h3q4k2b9c1f-000000-000000',
};

const contractsOf = (route: RouteName): Contract[] => Object.values(REGISTRY[route]) as Contract[];

/** The routes with a path per operation (V1's dataset and entity APIs), each with its tag and schema name prefix. */
type PathRouteName = 'v1' | 'entity';
const PATH_ROUTES: readonly { name: PathRouteName; tag: string; schema: string }[] = [
  { name: 'v1', tag: 'v1', schema: 'V1' },
  { name: 'entity', tag: 'entity', schema: 'V1Entity' },
];

export const OPENAPI_FILE = 'docs/openapi.json';

/** The project root: the nearest directory above this file (bundled into .esbuild/run/ or not) with serverless.yml. */
export const ROOT = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'serverless.yml'))) return d;
    if (path.dirname(d) === d) throw new Error(`serverless.yml not found above ${dir}`);
  }
}

type Json = Record<string, unknown>;

const ref = (kind: string, name: string): Json => ({ $ref: `#/components/${kind}/${name}` });
const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

// ---------------------------------------------------------------------------------------------------------------
// TSDoc of an operation file: the summary and description.

interface Doc {
  summary: string;
  description: string;
}

function fileDoc(file: string, fallback: string): Doc {
  const source = readFileSync(path.join(ROOT, file), 'utf8');
  const comment = /^\/\*\*([\s\S]*?)\*\//.exec(source)?.[1];
  if (!comment) return { summary: fallback, description: fallback };
  const text = comment
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, '').trim())
    .filter(Boolean)
    .join(' ');
  // "V1 `POST /wenxinworkshop/dataset/create` (seed 002, spec §1.1–1.2): creates …" → "Creates …"; also
  // "`POST /v2/accesskey?Action=CreateAccessKey` (a qfdata extension): a new …" → "A new …".
  const body = text.replace(/^(?:V[12] )?`[^`]*`(?: \([^)]*\))?: /, '');
  const sentence = body === text ? undefined : /^(.*?\.)(?:\s|$)/.exec(body)?.[1];
  return {
    summary: sentence ? upperFirst(sentence) : fallback,
    description: text,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Request bodies: zod → JSON Schema 2020-12 (the dialect of OpenAPI 3.1), input side.

const REFINED = 'Further checked by the server (a zod refinement JSON Schema cannot express).';
const PIPED = 'Normalised by the server, then checked again (the checks after the transform are not shown here).';

/** A pipe into a schema (not a bare `.transform()`): the second schema's checks apply to the transformed value. */
function checksAfterTransform(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def as { type: string; out?: z.core.$ZodType };
  return def.type === 'pipe' && def.out?._zod.def.type !== 'transform';
}

function hasRefinement(schema: z.core.$ZodType): boolean {
  const def = schema._zod.def as { type: string; checks?: z.core.$ZodCheck[]; in?: z.core.$ZodType; out?: z.core.$ZodType };
  // A whole body parsed by a transform (`withStorageDestination`) may refuse it there, as a refinement would.
  if (def.type === 'pipe' && def.in?._zod.def.type === 'object' && def.out?._zod.def.type === 'transform') return true;
  return (def.checks ?? []).some((check) => check._zod.def.check === 'custom');
}

/** The JSON Schema of what a client may send; what JSON Schema cannot say is noted in `$comment`. */
function requestSchema(schema: z.ZodType): Json {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      const notes = [hasRefinement(zodSchema) ? REFINED : '', checksAfterTransform(zodSchema) ? PIPED : ''].filter(Boolean);
      if (notes.length > 0) (jsonSchema as Json).$comment = notes.join(' ');
    },
  }) as Json;
  delete json.$schema; // the document's jsonSchemaDialect says it
  if ('$defs' in json) throw new Error('a request schema produced $defs: hoist them into components.schemas first');
  return json;
}

/** A body that accepts `{}` (the server reads an empty body as `{}`) need not be sent. */
const bodyRequired = (schema: z.ZodType) => !schema.safeParse({}).success;

// ---------------------------------------------------------------------------------------------------------------
// Errors: the table of shared/errors.ts, read from the classes themselves.

interface ErrorRow {
  code: string;
  status: number;
  v1Code: number;
  iam: boolean;
}

function errorTable(): ErrorRow[] {
  const rows: ErrorRow[] = [];
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof errors.QfError)) continue;
    const error = new (value as unknown as new (message: string) => errors.QfError)('-');
    rows.push({ code: error.code, status: error.status, v1Code: error.v1Code, iam: error.iam });
  }
  // A module namespace's key order depends on who loads it (ES modules sort, bundlers and vitest may not): fix it.
  return rows.sort((a, b) => a.status - b.status || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

/** Which codes each API's operations can answer: `InvalidAction` on V1 and `NotSupported` on V2 only come from routes
 * this document does not describe as operations (the V1 catch-all). */
const V1_CODES = (row: ErrorRow) => row.code !== 'InvalidAction';
const V2_CODES = (row: ErrorRow) => row.code !== 'NotSupported';

const unique = <T>(values: T[]) => [...new Set(values)];
const byStatus = (rows: ErrorRow[]) => [...new Set(rows.map((r) => r.status))].sort((a, b) => a - b).map((status) => ({ status, rows: rows.filter((r) => r.status === status) }));
/** What some codes mean, where the code alone does not say it. */
const CODE_NOTES: Record<string, string> = {
  AccessDenied: "a disabled access key, or one whose policy does not grant the operation's `x-qfdata-permission`",
};
const codesText = (rows: ErrorRow[]) => rows.map((r) => `\`${r.code}\`${CODE_NOTES[r.code] ? ` (${CODE_NOTES[r.code]})` : ''}`).join(', ');

// ---------------------------------------------------------------------------------------------------------------
// Components.

function components(table: ErrorRow[]): Json {
  const v1Business = table.filter((r) => !r.iam && V1_CODES(r));
  const schemas: Json = {
    V2SuccessEnvelope: {
      type: 'object',
      description: 'V2 success (HTTP 200).',
      required: ['requestId', 'result'],
      properties: {
        requestId: { type: 'string', description: 'The request id, also logged by the server.' },
        result: { description: "The operation's result." },
      },
    },
    V2ErrorEnvelope: {
      type: 'object',
      description: 'V2 error, with the HTTP status of its code. Also the shape of authentication errors on every path.',
      required: ['requestId', 'code', 'message'],
      properties: {
        requestId: { type: 'string' },
        code: { type: 'string', enum: unique(table.map((r) => r.code)) },
        message: { type: 'string' },
      },
    },
    V1SuccessEnvelope: {
      type: 'object',
      description: 'V1 success (HTTP 200).',
      required: ['log_id', 'status', 'success', 'result'],
      properties: {
        log_id: { type: 'string', description: 'The request id.' },
        status: { const: 200 },
        success: { const: true },
        result: { description: "The operation's result." },
      },
    },
    V1ErrorEnvelope: {
      type: 'object',
      description:
        'V1 business error: HTTP 200 with `success: false`, as Qianfan\'s console answers. `status` is the HTTP status the error ' +
        'would have on V2; `code` and `error_code` are the V1 integer code (' +
        v1Business.map((r) => `${r.v1Code} ${r.code}`).join(', ') +
        ').',
      required: ['log_id', 'status', 'success', 'code', 'message', 'error_code', 'error_msg'],
      properties: {
        log_id: { type: 'string', description: 'The request id.' },
        status: { type: 'integer', enum: unique(v1Business.map((r) => r.status)).sort((a, b) => a - b) },
        success: { const: false },
        code: { type: 'integer', enum: unique(v1Business.map((r) => r.v1Code)) },
        message: { type: 'string' },
        error_code: { type: 'integer', enum: unique(v1Business.map((r) => r.v1Code)) },
        error_msg: { type: 'string' },
      },
    },
    V1AuthErrorEnvelope: {
      type: 'object',
      description: 'Authentication error on a V1 path: its HTTP status, the V2 keys (string `code`) and the V1 keys.',
      required: ['requestId', 'code', 'message', 'log_id', 'status', 'success', 'error_code', 'error_msg'],
      properties: {
        requestId: { type: 'string' },
        code: { type: 'string', enum: unique(table.filter((r) => r.iam).map((r) => r.code)) },
        message: { type: 'string' },
        log_id: { type: 'string' },
        status: { type: 'integer' },
        success: { const: false },
        error_code: { type: 'integer', enum: unique(table.filter((r) => r.iam).map((r) => r.v1Code)) },
        error_msg: { type: 'string' },
      },
    },
  };
  for (const route of PATH_ROUTES) for (const op of contractsOf(route.name)) schemas[`${route.schema}${upperFirst(op.name)}Request`] = requestSchema(op.input);
  for (const route of ACTION_ROUTES) for (const op of contractsOf(route.name)) schemas[`V2${op.name}Request`] = requestSchema(op.input);

  const errorHeaders = { 'X-Bce-Error-Code': ref('headers', 'XBceErrorCode'), 'X-Bce-Error-Message': ref('headers', 'XBceErrorMessage') };
  const responses: Json = {
    V1Result: {
      description:
        'HTTP 200 for success and for every business error (`success` tells them apart); a business error also carries the ' +
        '`X-Bce-Error-Code` / `X-Bce-Error-Message` headers.',
      content: { 'application/json': { schema: { oneOf: [ref('schemas', 'V1SuccessEnvelope'), ref('schemas', 'V1ErrorEnvelope')] } } },
    },
    V2Success: { description: 'Success.', content: { 'application/json': { schema: ref('schemas', 'V2SuccessEnvelope') } } },
  };
  for (const { status, rows } of byStatus(table.filter((r) => r.iam))) {
    responses[`V1AuthError${status}`] = {
      description: `Authentication refused: ${codesText(rows)}.`,
      headers: errorHeaders,
      content: {
        'application/json': {
          schema: { allOf: [ref('schemas', 'V1AuthErrorEnvelope'), { properties: { code: { enum: rows.map((r) => r.code) }, status: { const: status } } }] },
        },
      },
    };
  }
  for (const { status, rows } of byStatus(table.filter(V2_CODES))) {
    responses[`V2Error${status}`] = {
      description: `${codesText(rows)}.`,
      headers: errorHeaders,
      content: { 'application/json': { schema: { allOf: [ref('schemas', 'V2ErrorEnvelope'), { properties: { code: { enum: rows.map((r) => r.code) } } }] } } },
    };
  }

  return {
    schemas,
    responses,
    parameters: {
      clientToken: {
        name: 'clientToken',
        in: 'query',
        required: false,
        description:
          'BCE idempotency token: a repeated request with the same token and the same body answers the first result; the same ' +
          'token with another body is `IdempotentParameterMismatch`. Accepted by every dataset operation, meaningful for the ' +
          'creating ones (the access-key actions do not take it).',
        schema: { type: 'string', pattern: '^[\\x21-\\x7e]{1,64}$' },
      },
    },
    headers: {
      XBceErrorCode: { description: 'The error code (the V2 `code`), on every error.', schema: { type: 'string' } },
      XBceErrorMessage: { description: 'The error message, printable ASCII, at most 512 characters.', schema: { type: 'string' } },
    },
    securitySchemes: {
      bceAuth: {
        type: 'apiKey',
        in: 'header',
        name: 'Authorization',
        description:
          'BCE signature v1 (`bce-auth-v1`), as the Qianfan SDKs send it: ' +
          '`bce-auth-v1/{accessKeyId}/{timestamp YYYY-MM-DDTHH:mm:ssZ}/{expirationSeconds}/{signedHeaders}/{signature}`, where ' +
          '`signature = hex(HMAC-SHA256(hex(HMAC-SHA256(secretKey, prefix)), canonicalRequest))` over the method, URI, query ' +
          'and the signed headers (which must include `host`). Not a static key: every request is signed. Failures answer ' +
          '`InvalidHTTPAuthHeader`, `InvalidAccessKeyId`, `SignatureDoesNotMatch`, `RequestExpired` or `AccessDenied`. ' +
          "Each access key carries one policy (`x-qfdata-policies`); a request whose operation needs a permission " +
          "(`x-qfdata-permission`) the key's policy does not grant, or one signed by a disabled key, answers `AccessDenied` " +
          '(403) after the signature check.',
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Operations.

/** A request body, with the operation's example (the registry's, naming example ids). */
function requestBody(op: Contract, schemaName: string): Json {
  return {
    required: bodyRequired(op.input),
    content: { 'application/json': { schema: ref('schemas', schemaName), example: op.example(EXAMPLE_IDS) } },
  };
}

function v1Operation(op: Contract, table: ErrorRow[], route: (typeof PATH_ROUTES)[number]): Json {
  const doc = fileDoc(fileOf(op), op.name);
  const responses: Json = { '200': ref('responses', 'V1Result') };
  for (const { status } of byStatus(table.filter((r) => r.iam))) responses[String(status)] = ref('responses', `V1AuthError${status}`);
  return {
    post: {
      tags: [route.tag],
      operationId: `${route.tag}${upperFirst(op.name)}`,
      summary: doc.summary,
      description: doc.description,
      parameters: ROUTES[route.name].clientToken ? [ref('parameters', 'clientToken')] : [],
      requestBody: requestBody(op, `${route.schema}${upperFirst(op.name)}Request`),
      responses,
      ...(op.extension ? { 'x-qfdata-extension': true } : {}),
      'x-qfdata-permission': op.needs,
    },
  };
}

function v2Responses(table: ErrorRow[]): Json {
  const responses: Json = { '200': ref('responses', 'V2Success') };
  for (const { status } of byStatus(table.filter(V2_CODES))) responses[String(status)] = ref('responses', `V2Error${status}`);
  return responses;
}

/** One action of an Action route as an Operation Object (an entry of `x-qfdata-actions`). */
function actionOperation(route: ActionRoute, op: Contract, table: ErrorRow[]): Json {
  const doc = fileDoc(fileOf(op), op.name);
  return {
    operationId: `v2${op.name}`,
    summary: doc.summary,
    description: doc.description,
    parameters: [{ name: 'Action', in: 'query', required: true, schema: { const: op.name } }, ...(route.clientToken ? [ref('parameters', 'clientToken')] : [])],
    requestBody: requestBody(op, `V2${op.name}Request`),
    responses: v2Responses(table),
    ...(op.extension || route.extension ? { 'x-qfdata-extension': true } : {}),
    'x-qfdata-permission': op.needs,
  };
}

/** A route whose operation is its `Action` query parameter: one Operation Object, the actions under `x-qfdata-actions`. */
function actionPath(doc: ActionRouteDoc, table: ErrorRow[]): Json {
  const route: ActionRoute = ROUTES[doc.name];
  const operations = contractsOf(doc.name);
  const names = operations.map((op) => op.name);
  const extensions = operations.filter((op) => op.extension).map((op) => op.name);
  const needs = unique(operations.map((op) => op.needs));
  return {
    post: {
      tags: [doc.tag],
      operationId: doc.operationId,
      summary: doc.summary,
      description:
        `Every action is \`POST ${route.path}?Action=<Action>\` with a JSON body. ${doc.note}Each action's own request schema, ` +
        'summary, operationId and permission are in `x-qfdata-actions` (an Operation Object per action); the request body here ' +
        'accepts any of them. ' +
        (route.extension || extensions.length === 0 ? '' : `Actions marked \`x-qfdata-extension\` (${extensions.join(', ')}) are qfdata extensions beyond Qianfan. `) +
        'Any other Action answers `InvalidAction` (400).',
      parameters: [
        { name: 'Action', in: 'query', required: true, description: 'The action to run.', schema: { type: 'string', enum: names } },
        ...(route.clientToken ? [ref('parameters', 'clientToken')] : []),
      ],
      requestBody: {
        required: operations.every((op) => bodyRequired(op.input)),
        content: { 'application/json': { schema: { anyOf: names.map((name) => ref('schemas', `V2${name}Request`)) } } },
      },
      responses: v2Responses(table),
      ...(route.extension ? { 'x-qfdata-extension': true } : {}),
      // One permission for the whole route when every action needs the same.
      ...(needs.length === 1 ? { 'x-qfdata-permission': needs[0] } : {}),
      'x-qfdata-actions': Object.fromEntries(operations.map((op) => [op.name, actionOperation(route, op, table)])),
    },
  };
}

function localPaths(): Json {
  const json = (schema: Json) => ({ 'application/json': { schema } });
  return {
    '/_qfdata/health': {
      get: {
        tags: ['local'],
        operationId: 'localHealth',
        summary: 'Local twin health check.',
        description: 'Local twin only (`npm start`; serverless.local.yml): 200 when the metadata store answers, 503 otherwise. No authentication.',
        security: [],
        responses: {
          '200': { description: 'Healthy.', content: json({ type: 'object', required: ['status', 'service'], properties: { status: { const: 'ok' }, service: { const: 'qfdata' } } }) },
          '503': {
            description: 'The metadata store does not answer.',
            content: json({ type: 'object', required: ['status', 'service'], properties: { status: { const: 'unavailable' }, service: { const: 'qfdata' } } }),
          },
        },
        'x-qfdata-local-only': true,
      },
    },
    '/_qfdata/reset': {
      post: {
        tags: ['local'],
        operationId: 'localReset',
        summary: 'Local twin reset: clears all data but access keys.',
        description:
          'Local twin only (`npm start`; serverless.local.yml): deletes every dataset of every account with its objects, tokens ' +
          'and tombstones. Access keys stay. Takes no body. No authentication.',
        security: [],
        responses: { '200': { description: 'Reset.', content: json({ type: 'object', required: ['reset'], properties: { reset: { const: true } } }) } },
        'x-qfdata-local-only': true,
      },
    },
  };
}

/** The OpenAPI 3.1 document, built in memory (deterministic: the same sources give the same document). */
export function buildOpenApi(): object {
  const table = errorTable();
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string };
  const paths: Json = {};
  for (const route of PATH_ROUTES) for (const op of contractsOf(route.name)) paths[`${ROUTES[route.name].prefix}${op.name}`] = v1Operation(op, table, route);
  for (const route of ACTION_ROUTES) paths[ROUTES[route.name].path] = actionPath(route, table);
  Object.assign(paths, localPaths());
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'qfdata',
      version: pkg.version,
      description:
        `${pkg.description}. Generated by \`npm run openapi\` from the operations' zod schemas; do not edit by hand.\n\n` +
        'Request bodies are the input side of the zod schemas: what the server accepts before it normalises. Checks JSON ' +
        'Schema cannot express (zod refinements, checks after a transform) are noted in `$comment`; the server applies them ' +
        'and answers `InappropriateJSON` naming the field. Unknown fields are ignored. Results are described only as the ' +
        'envelope (`result` is any JSON).\n\n' +
        'V2 actions: all sixteen are `POST /v2/dataset?Action=<Action>`. OpenAPI keys a path by its path alone (a query ' +
        'string in a path key is not valid and breaks most tools), so they are one operation, `POST /v2/dataset`, with an ' +
        '`Action` query parameter (an enum) and a body that is any of the actions\' bodies. The per-action detail lives in ' +
        'its `x-qfdata-actions` extension: an OpenAPI Operation Object per action (operationId, summary, request body, ' +
        'responses), for tools and generators that want one method per action. The access-key and bucket actions (qfdata ' +
        'extensions) are described the same way under `POST /v2/accesskey` and `POST /v2/bucket`.\n\n' +
        'Permissions: every V1 operation and every action of `x-qfdata-actions` names in `x-qfdata-permission` the ' +
        'permission it needs (' +
        PERMISSIONS.map((p) => `\`${p}\``).join(', ') +
        "); each access key carries one policy, and `x-qfdata-policies` lists what each policy grants. A request signed by a " +
        "key whose policy does not grant the operation's permission, or by a disabled key, answers `AccessDenied` (HTTP 403; " +
        'on V1 paths also `error_code` 336004) after the signature check.\n\n' +
        'V1 operations answer HTTP 200 for every business error (`success: false` with an integer `code`); only ' +
        'authentication errors use an HTTP error status. V2 errors use the HTTP status of their code. Operations marked ' +
        '`x-qfdata-extension` go beyond Qianfan; paths marked `x-qfdata-local-only` exist only in the local twin (`npm start`).',
    },
    tags: [
      { name: 'v1', description: 'Qianfan console V1 dataset API (`/wenxinworkshop/dataset/*`).' },
      { name: 'entity', description: 'Qianfan console V1 entity API (`/wenxinworkshop/entity/*`): the samples of a version, one by one.' },
      { name: 'v2', description: 'Qianfan V2 dataset API (`/v2/dataset?Action=…`).' },
      { name: 'keys', description: "A qfdata extension: the account's access keys (`/v2/accesskey?Action=…`), in the V2 envelope." },
      { name: 'buckets', description: "A qfdata extension: the account's buckets and their grants (`/v2/bucket?Action=…`), in the V2 envelope." },
      { name: 'local', description: 'Local twin only.' },
    ],
    security: [{ bceAuth: [] }],
    'x-qfdata-policies': POLICIES,
    paths,
    components: components(table),
  };
}

/** The file's exact text: 2-space JSON with a trailing newline. */
export function renderOpenApi(): string {
  return `${JSON.stringify(buildOpenApi(), null, 2)}\n`;
}

export async function main(args: string[]): Promise<void> {
  const unknown = args.filter((arg) => arg !== '--check');
  if (unknown.length > 0) throw new Error(`unknown argument ${unknown[0]} (usage: openapi.ts [--check])`);
  const file = path.join(ROOT, OPENAPI_FILE);
  const text = renderOpenApi();
  if (args.includes('--check')) {
    const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (current !== text) throw new Error(`${OPENAPI_FILE} is ${current === undefined ? 'missing' : 'stale'}; run \`npm run openapi\` and commit it`);
    console.log(`${OPENAPI_FILE} is up to date`);
    return;
  }
  writeFileSync(file, text);
  console.log(`wrote ${OPENAPI_FILE}`);
}
