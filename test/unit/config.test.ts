/**
 * The configuration (`shared/config.ts`): defaults, coercions and the rules of each variable, and an error that names
 * every bad variable and what it must be. serverless.yml passes unset settings as empty strings, which count as unset.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config.js';

describe('parseConfig', () => {
  it('gives every default for an empty environment', () => {
    // Act
    const c = parseConfig({});
    // Assess
    expect(c).toMatchObject({
      QFDATA_TABLE: 'qfdata',
      AWS_REGION: 'us-east-1',
      QFDATA_OBJECT_STORE: 'fs',
      QFDATA_S3_FORCE_PATH_STYLE: false,
      QFDATA_S3_CREDENTIALS_MAX_AGE_SECONDS: 300,
      QFDATA_DATA_DIR: './.data',
      QFDATA_PLATFORM_BUCKET: 'qfdata',
      QFDATA_ROOT_ACCOUNT: 'root',
      QFDATA_BOS_REGION: 'bj',
      QFDATA_TIME_ZONE: 'Asia/Shanghai',
      QFDATA_AUTH_MAX_LIFETIME_SECONDS: 3600,
      QFDATA_AUTH_MAX_FUTURE_SKEW_SECONDS: 900,
      QFDATA_KEY_CACHE_SECONDS: 60,
      QFDATA_EXPORT_LEASE_SECONDS: 30,
      QFDATA_IMPORT_LEASE_SECONDS: 30,
      QFDATA_IMPORT_WORKERS: 4,
      QFDATA_DOWNLOAD_URL_SECONDS: 86_400,
      LOG_LEVEL: 'info',
      QFDATA_LOG_DEBUG_SAMPLE_RATE: 0,
      QFDATA_METRICS: 'off',
      QFDATA_METRICS_NAMESPACE: 'qfdata',
      IS_OFFLINE: false,
    });
    expect(c.QFDATA_S3_CREDENTIALS).toBeUndefined();
    expect(c.QFDATA_USER_BUCKETS).toBeUndefined();
    expect(c.QFDATA_DYNAMODB_ENDPOINT).toBeUndefined();
  });

  it('treats empty strings as unset, coerces numbers and reads booleans', () => {
    // Act
    const c = parseConfig({ QFDATA_TABLE: '', QFDATA_IMPORT_WORKERS: '8', QFDATA_KEY_CACHE_SECONDS: '0', IS_OFFLINE: 'true', QFDATA_S3_FORCE_PATH_STYLE: '1', QFDATA_LOG_DEBUG_SAMPLE_RATE: '0.25' });
    // Assess
    expect(c.QFDATA_TABLE).toBe('qfdata');
    expect(c.QFDATA_IMPORT_WORKERS).toBe(8);
    expect(c.QFDATA_KEY_CACHE_SECONDS).toBe(0);
    expect(c.IS_OFFLINE).toBe(true);
    expect(c.QFDATA_S3_FORCE_PATH_STYLE).toBe(true);
    expect(c.QFDATA_LOG_DEBUG_SAMPLE_RATE).toBe(0.25);
    expect(parseConfig({ IS_OFFLINE: 'false', QFDATA_S3_FORCE_PATH_STYLE: '0' })).toMatchObject({ IS_OFFLINE: false, QFDATA_S3_FORCE_PATH_STYLE: false });
  });

  it.each([
    ['secretsmanager:qfdata/prod/bos', { secret: 'qfdata/prod/bos' }],
    ['secretsmanager:arn:aws:secretsmanager:us-east-1:123456789012:secret:bos-AbCdEf', { secret: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bos-AbCdEf' }],
    ['ssm:/qfdata/prod/bos', { parameter: '/qfdata/prod/bos' }],
  ])('reads QFDATA_S3_CREDENTIALS %s', (value, expected) => {
    // Act & Assess
    expect(parseConfig({ QFDATA_S3_CREDENTIALS: value }).QFDATA_S3_CREDENTIALS).toEqual(expected);
  });

  it('reads QFDATA_USER_BUCKETS as a list, or * for any bucket', () => {
    // Act & Assess
    expect(parseConfig({ QFDATA_USER_BUCKETS: 'team-a,team-b.data' }).QFDATA_USER_BUCKETS).toEqual(['team-a', 'team-b.data']);
    expect(parseConfig({ QFDATA_USER_BUCKETS: '*' }).QFDATA_USER_BUCKETS).toBe('*');
  });

  it.each([
    ['QFDATA_S3_CREDENTIALS', 'vault:bos', 'QFDATA_S3_CREDENTIALS: must be secretsmanager:<secret name or ARN> or ssm:<parameter name starting with />'],
    ['QFDATA_S3_CREDENTIALS', 'ssm:no-leading-slash', 'QFDATA_S3_CREDENTIALS: must be secretsmanager:'],
    ['QFDATA_USER_BUCKETS', 'team-a,Bad_Bucket', 'QFDATA_USER_BUCKETS: "Bad_Bucket" is not a bucket name'],
    ['QFDATA_USER_BUCKETS', 'team-a,*', 'QFDATA_USER_BUCKETS: "*" is not a bucket name: use * alone to allow every bucket'],
    ['QFDATA_TIME_ZONE', 'Mars/Olympus_Mons', 'QFDATA_TIME_ZONE: must be an IANA time zone such as Asia/Shanghai'],
    ['QFDATA_ROOT_ACCOUNT', 'has space', 'QFDATA_ROOT_ACCOUNT: must be 1-64 letters, digits, ".", "_" or "-"'],
    ['QFDATA_METRICS_NAMESPACE', 'bad namespace!', 'QFDATA_METRICS_NAMESPACE: must be 1-255 letters'],
    ['QFDATA_OBJECT_STORE', 'floppy', 'QFDATA_OBJECT_STORE:'],
    ['QFDATA_IMPORT_WORKERS', '0', 'QFDATA_IMPORT_WORKERS:'],
    ['QFDATA_IMPORT_WORKERS', '2.5', 'QFDATA_IMPORT_WORKERS:'],
    ['QFDATA_KEY_CACHE_SECONDS', '-5', 'QFDATA_KEY_CACHE_SECONDS:'],
    ['QFDATA_DOWNLOAD_URL_SECONDS', '30', 'QFDATA_DOWNLOAD_URL_SECONDS:'],
    ['QFDATA_DOWNLOAD_URL_SECONDS', String(8 * 24 * 3600), 'QFDATA_DOWNLOAD_URL_SECONDS:'],
    ['QFDATA_LOG_DEBUG_SAMPLE_RATE', '2', 'QFDATA_LOG_DEBUG_SAMPLE_RATE:'],
    ['QFDATA_DYNAMODB_ENDPOINT', 'not a url', 'QFDATA_DYNAMODB_ENDPOINT:'],
    ['QFDATA_TABLE', 'ab', 'QFDATA_TABLE:'],
    ['IS_OFFLINE', 'yes', 'IS_OFFLINE:'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL:'],
  ])('refuses %s=%j, naming it and what it must be', (variable, value, message) => {
    // Act & Assess
    expect(() => parseConfig({ [variable]: value })).toThrow(message);
  });

  it('names every bad variable at once', () => {
    // Act
    const error = (() => {
      try {
        parseConfig({ QFDATA_OBJECT_STORE: 'floppy', QFDATA_IMPORT_WORKERS: 'many' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    // Assess
    expect(error?.message).toMatch(/^qfdata configuration is invalid: /);
    expect(error?.message).toContain('QFDATA_OBJECT_STORE:');
    expect(error?.message).toContain('QFDATA_IMPORT_WORKERS:');
  });

  it('accepts an IANA zone other than the default, and an alias Intl knows', () => {
    // Act & Assess
    expect(parseConfig({ QFDATA_TIME_ZONE: 'Europe/Berlin' }).QFDATA_TIME_ZONE).toBe('Europe/Berlin');
    expect(parseConfig({ QFDATA_TIME_ZONE: 'UTC' }).QFDATA_TIME_ZONE).toBe('UTC');
  });
});
