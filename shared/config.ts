/**
 * The one place that reads `process.env`. Parsed once, at cold start; a bad value fails the function at load time
 * with the variable's name, not in the middle of a request. The README's configuration table mirrors this schema.
 */
import * as z from 'zod';

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const schema = z.object({
  /** DynamoDB table holding all metadata. */
  QFDATA_TABLE: z.string().min(3).default('qfdata'),
  /** DynamoDB endpoint; set locally to the dynalite server started by `npm start`. Unset in the cloud. */
  QFDATA_DYNAMODB_ENDPOINT: z.url().optional(),
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** Object storage: `fs` (files under QFDATA_DATA_DIR, the embedded default) or `s3`. */
  QFDATA_OBJECT_STORE: z.enum(['fs', 's3']).default('fs'),
  /** S3-compatible endpoint for QFDATA_OBJECT_STORE=s3 (BOS: https://s3.bj.bcebos.com; MinIO); unset for AWS S3. */
  QFDATA_S3_ENDPOINT: z.url().optional(),
  /** Path-style bucket addressing (MinIO, s3rver); virtual-hosted style otherwise. */
  QFDATA_S3_FORCE_PATH_STYLE: bool,
  /** Where local data lives: dynalite's LevelDB, object buckets, temp files. */
  QFDATA_DATA_DIR: z.string().min(1).default('./.data'),
  /** Bucket that plays Qianfan's platform storage (`sysBos` / `sysStorage`). */
  QFDATA_PLATFORM_BUCKET: z.string().min(3).default('qfdata'),
  /** The operator's account: it owns every bucket that exists with no owner recorded (and gets `npm start`'s root key). */
  QFDATA_ROOT_ACCOUNT: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_" or "-"').default('root'),
  /** Region reported in `storageInfo.region` for datasets on the user's own bucket. */
  QFDATA_BOS_REGION: z.string().min(1).default('bj'),
  /** Zone of every `YYYY-MM-DD HH:mm:ss` time and of V1 `createTime`'s offset (Qianfan uses Asia/Shanghai). */
  QFDATA_TIME_ZONE: z
    .string()
    .default('Asia/Shanghai')
    .refine((tz) => isTimeZone(tz), 'must be an IANA time zone such as Asia/Shanghai'),
  /** Cap on a signature's lifetime, whatever `expirationPeriodInSeconds` the client signed. */
  QFDATA_AUTH_MAX_LIFETIME_SECONDS: positiveInt(3600),
  /** How far in the future a signature's timestamp may be. */
  QFDATA_AUTH_MAX_FUTURE_SKEW_SECONDS: positiveInt(900),
  /** Locally: the file holding the 32-byte key that seals access-key secrets (mode 0600; `npm start` creates it). */
  QFDATA_SECRETS_KEY_FILE: z.string().min(1).optional(),
  /** In the cloud: the KMS key that seals access-key secrets (its id, ARN or alias); the key file is then unused. */
  QFDATA_SECRETS_KMS_KEY_ID: z.string().min(1).optional(),
  /** A KMS endpoint other than AWS's (tests); unset in the cloud. */
  QFDATA_KMS_ENDPOINT: z.url().optional(),
  /** How long a verified access key stays cached in a warm function. */
  QFDATA_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).default(60),
  /** SQS queue that triggers the import worker (cloud). */
  QFDATA_IMPORT_QUEUE_URL: z.url().optional(),
  /** Locally: serverless-offline's Lambda endpoint, through which the import worker is invoked at once. */
  QFDATA_LOCAL_LAMBDA_ENDPOINT: z.url().optional(),
  /** The import worker's function name (for the local invoke). */
  QFDATA_IMPORT_WORKER_FUNCTION: z.string().min(1).default('qfdata-local-importWorker'),
  /** The scheduled runner's function name (kicked locally when an export is created). */
  QFDATA_SCHEDULER_FUNCTION: z.string().min(1).default('qfdata-local-scheduler'),
  /**
   * How long an export runner's lease lasts; a heartbeat renews it every third of that while the runner is alive,
   * so a runner that dies is noticed about this long later, however long exports take.
   */
  QFDATA_EXPORT_LEASE_SECONDS: positiveInt(30),
  /** How long an import worker's lease lasts; renewed like an export runner's. */
  QFDATA_IMPORT_LEASE_SECONDS: positiveInt(30),
  /** Where the local download server answers (error reports, exports); signed URLs point here. */
  QFDATA_DOWNLOAD_BASE_URL: z.url().optional(),
  /** Lifetime of download URLs (at most 7 days). */
  QFDATA_DOWNLOAD_URL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(24 * 3600),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Set by serverless-offline; enables the local-only routes. */
  IS_OFFLINE: bool,
});

export type Config = z.infer<typeof schema>;

function isTimeZone(tz: string): boolean {
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
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`qfdata configuration is invalid: ${problems}`);
  }
  return result.data;
}

let cached: Config | undefined;

/** The process configuration, parsed on first use (at module load of each function). */
export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
