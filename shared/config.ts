/**
 * The one place that reads `process.env`. Parsed once, at cold start; a bad value fails the function at load time
 * with the variable's name, not in the middle of a request. The README's configuration table mirrors this schema.
 */
import * as z from 'zod/mini';
import { bucketNameProblem } from './objects/port.js';

/*
 * zod's mini build for the one schema every cold start builds and parses: its schemas cost less than the classic
 * API's to construct (the classic one attaches every method to every instance), which a cold start pays for 45
 * variables. It is parsed without zod's JIT (`jitless` in parseConfig): it is parsed once per process, and compiling
 * a parser for one parse costs more than it saves. Request schemas keep the JIT (bench `chain`: ~2 µs a request).
 */

const bool = z.pipe(
  z.optional(z.enum(['true', 'false', '1', '0', ''])),
  z.transform((v) => v === 'true' || v === '1'),
);

const text = (min = 1) => z.string().check(z.minLength(min));
const optionalText = () => z.optional(text());
const optionalUrl = () => z.optional(z.url());
const positiveInt = (fallback: number) => z._default(z.coerce.number().check(z.int(), z.positive()), fallback);
const defaultText = (fallback: string, min = 1) => z._default(text(min), fallback);

/** The issue a transform reports for `input`. */
const issue = (input: string, message: string) => ({ code: 'custom' as const, message, input });

const schema = z.object({
  /** DynamoDB table holding all metadata. */
  QFDATA_TABLE: defaultText('qfdata', 3),
  /** DynamoDB endpoint; set locally to the dynalite server started by `npm start`. Unset in the cloud. */
  QFDATA_DYNAMODB_ENDPOINT: optionalUrl(),
  AWS_REGION: defaultText('us-east-1'),
  /** Object storage: `fs` (files under QFDATA_DATA_DIR, the embedded default) or `s3`. */
  QFDATA_OBJECT_STORE: z._default(z.enum(['fs', 's3']), 'fs'),
  /** S3-compatible endpoint for QFDATA_OBJECT_STORE=s3 (BOS: https://s3.bj.bcebos.com; MinIO); unset for AWS S3. */
  QFDATA_S3_ENDPOINT: optionalUrl(),
  /** Path-style bucket addressing (MinIO, s3rver); virtual-hosted style otherwise. */
  QFDATA_S3_FORCE_PATH_STYLE: bool,
  /** Signing region of QFDATA_S3_ENDPOINT (BOS: `bj`, `gz`, `su`, …); AWS_REGION when unset. */
  QFDATA_S3_REGION: optionalText(),
  /**
   * Where the S3 store's keys are kept when they are not the function's own (BOS, MinIO):
   * `secretsmanager:<secret name or ARN>` or `ssm:<SecureString parameter name>`, whose value is the JSON object
   * `{"accessKeyId": "…", "secretAccessKey": "…"}`, read at first use and cached. Only where they are travels in the
   * environment, never the keys.
   */
  QFDATA_S3_CREDENTIALS: z.optional(
    z.pipe(
      z.string(),
      z.transform((value: string, ctx): { secret: string } | { parameter: string } => {
        const at = value.indexOf(':');
        const [scheme, name] = at < 0 ? ['', value] : [value.slice(0, at), value.slice(at + 1)];
        if (scheme === 'secretsmanager' && name !== '') return { secret: name };
        if (scheme === 'ssm' && /^\/[A-Za-z0-9_.\-/]+$/.test(name)) return { parameter: name };
        ctx.issues.push(issue(value, 'must be secretsmanager:<secret name or ARN> or ssm:<parameter name starting with />, e.g. secretsmanager:qfdata/prod/s3-credentials'));
        return z.NEVER;
      }),
    ),
  ),
  /** How long a warm function keeps those credentials before reading them again (so a rotation is picked up). */
  QFDATA_S3_CREDENTIALS_MAX_AGE_SECONDS: positiveInt(300),
  /**
   * The buckets requests may name as their own (datasets on BOS, import sources, export destinations),
   * comma-separated with no spaces (serverless.yml makes the functions' IAM resources of the same list), named when
   * the stack is deployed; `*` allows any bucket. Unset: any bucket with the filesystem store (the local twin), none
   * with S3.
   */
  QFDATA_USER_BUCKETS: z.optional(
    z.pipe(
      z.string(),
      z.transform((value: string, ctx): '*' | string[] => {
        if (value === '*') return '*';
        const names = value.split(',');
        for (const name of names) {
          const problem = name === '*' ? 'use * alone to allow every bucket' : bucketNameProblem(name);
          if (problem) ctx.issues.push(issue(value, `"${name}" is not a bucket name: ${problem}`));
        }
        return names;
      }),
    ),
  ),
  /** Where local data lives: dynalite's LevelDB, object buckets, temp files. */
  QFDATA_DATA_DIR: defaultText('./.data'),
  /** Bucket that plays Qianfan's platform storage (`sysBos` / `sysStorage`). */
  QFDATA_PLATFORM_BUCKET: defaultText('qfdata', 3),
  /** The operator's account: it owns every bucket that exists with no owner recorded (and gets `npm start`'s root key). */
  QFDATA_ROOT_ACCOUNT: z._default(z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"')), 'root'),
  /** Region reported in `storageInfo.region` for datasets on the user's own bucket. */
  QFDATA_BOS_REGION: defaultText('bj'),
  /** Zone of every `YYYY-MM-DD HH:mm:ss` time and of V1 `createTime`'s offset (Qianfan uses Asia/Shanghai). */
  QFDATA_TIME_ZONE: z._default(z.string().check(z.refine((tz: string) => isTimeZone(tz), 'must be an IANA time zone such as Asia/Shanghai')), 'Asia/Shanghai'),
  /** Cap on a signature's lifetime, whatever `expirationPeriodInSeconds` the client signed. */
  QFDATA_AUTH_MAX_LIFETIME_SECONDS: positiveInt(3600),
  /** How far in the future a signature's timestamp may be. */
  QFDATA_AUTH_MAX_FUTURE_SKEW_SECONDS: positiveInt(900),
  /** Locally: the file holding the 32-byte key that seals access-key secrets (mode 0600; `npm start` creates it). */
  QFDATA_SECRETS_KEY_FILE: optionalText(),
  /** In the cloud: the KMS key that seals access-key secrets (its id, ARN or alias); the key file is then unused. */
  QFDATA_SECRETS_KMS_KEY_ID: optionalText(),
  /** A KMS endpoint other than AWS's (tests); unset in the cloud. */
  QFDATA_KMS_ENDPOINT: optionalUrl(),
  /** How long a verified access key stays cached in a warm function. */
  QFDATA_KEY_CACHE_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 60),
  /** SQS queue that triggers the import worker (cloud). */
  QFDATA_IMPORT_QUEUE_URL: optionalUrl(),
  /** Locally: serverless-offline's Lambda endpoint, through which the import worker is invoked at once. */
  QFDATA_LOCAL_LAMBDA_ENDPOINT: optionalUrl(),
  /** The import worker's function name (for the local invoke). */
  QFDATA_IMPORT_WORKER_FUNCTION: defaultText('qfdata-local-importWorker'),
  /** The scheduled runner's function name (kicked locally when an export is created). */
  QFDATA_SCHEDULER_FUNCTION: defaultText('qfdata-local-scheduler'),
  /**
   * How long an export runner's lease lasts; a heartbeat renews it every third of that while the runner is alive,
   * so a runner that dies is noticed about this long later, however long exports take.
   */
  QFDATA_EXPORT_LEASE_SECONDS: positiveInt(30),
  /** How long an import worker's lease lasts; renewed like an export runner's. */
  QFDATA_IMPORT_LEASE_SECONDS: positiveInt(30),
  /** Workers one import of several files fans out to (each a contiguous range of its files). */
  QFDATA_IMPORT_WORKERS: positiveInt(4),
  /** Where the local download server answers (error reports, exports); signed URLs point here. */
  QFDATA_DOWNLOAD_BASE_URL: optionalUrl(),
  /** The EventBridge bus events are published to (serverless.yml: the stack's own); unset locally (the event log under the data dir). */
  QFDATA_EVENT_BUS: optionalText(),
  /** Lifetime of download URLs (at most 7 days). */
  QFDATA_DOWNLOAD_URL_SECONDS: z._default(z.coerce.number().check(z.int(), z.minimum(60), z.maximum(7 * 24 * 3600)), 24 * 3600),
  LOG_LEVEL: z._default(z.enum(['debug', 'info', 'warn', 'error', 'silent']), 'info'),
  /** The share of invocations (0 to 1) that log at debug level whatever LOG_LEVEL says (Powertools sampling). */
  QFDATA_LOG_DEBUG_SAMPLE_RATE: z._default(z.coerce.number().check(z.minimum(0), z.maximum(1)), 0),
  /** `emf`: CloudWatch metrics as Embedded Metric Format lines on stdout (the cloud); `off`: none (the default). */
  QFDATA_METRICS: z._default(z.enum(['emf', 'off']), 'off'),
  /** The CloudWatch namespace of those metrics (serverless.yml: `qfdata-<stage>`). */
  QFDATA_METRICS_NAMESPACE: z._default(z.string().check(z.regex(/^[A-Za-z0-9._/#:-]{1,255}$/, 'must be 1-255 letters, digits or . _ / # : -')), 'qfdata'),
  /** Set by serverless-offline; enables the local-only routes. */
  IS_OFFLINE: bool,
});

export type Config = z.output<typeof schema>;

/**
 * Whether `Intl` knows the zone. A canonical IANA name is found in `Intl.supportedValuesOf` (~2 ms at a cold
 * start); building an `Intl.DateTimeFormat` loads a locale's date formats (~12 ms), so only other spellings (aliases
 * such as `UTC`, another letter case) are asked of it. The views pay that load at their first formatted time, and
 * requests that format none (DescribeDatasets, refusals) never do.
 */
function isTimeZone(tz: string): boolean {
  if (Intl.supportedValuesOf('timeZone').includes(tz)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Parses an environment; throws an Error naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  // serverless.yml passes unset settings as empty strings: treat them as unset.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(present, { jitless: true });
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`qfdata configuration is invalid: ${problems}`);
  }
  return result.data;
}

/**
 * The AWS credentials in the environment (what Lambda gives a function's role), if any. Not part of {@link Config}:
 * they are secrets, read where a request is signed (`shared/store/aws-json.ts`) and never parsed, kept or logged here.
 */
export function environmentCredentials(env: Record<string, string | undefined> = process.env): { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
}

let cached: Config | undefined;

/** The process configuration, parsed on first use (at module load of each function). */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
