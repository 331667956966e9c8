/**
 * Access keys and policies: the process-wide service, wired from the configuration once (cold start), and the
 * signature-lookup adapter (`./signatures.ts`) through which the API and the download server verify signatures.
 *
 * The sealer is the KMS one when QFDATA_SECRETS_KMS_KEY_ID is set (the cloud), the key-file one otherwise (the
 * local twin: QFDATA_SECRETS_KEY_FILE, by default `<QFDATA_DATA_DIR>/secrets.key`). KMS is called through the light
 * JSON-protocol client the metadata store uses (`shared/store/aws-json.ts`), made on first use.
 */
import path from 'node:path';
import { config, type Config } from '../config.js';
import { lazy } from '../lazy.js';
import { FileKeySealer, KmsSealer, type KmsApi, type SecretSealer } from './secrets.js';

export * from './policies.js';
export { AccessKeyService, MAX_KEYS_PER_ACCOUNT, newAccessKeyId, newSecretAccessKey, type IssuedKey, type KeyCaller, type ResolvedKey } from './service.js';
export { FileKeySealer, KmsSealer, ensureKeyFile, type KmsApi, type SealContext, type SecretSealer } from './secrets.js';
export { DISABLED_KEY_MESSAGE, MAX_ACCESS_KEY_ID_LENGTH, assertEnabled, signatureLookup, verifyWithKeys, type KeySource } from './signatures.js';

/** The key file the local sealer reads. */
export function secretsKeyFile(c: Pick<Config, 'QFDATA_SECRETS_KEY_FILE' | 'QFDATA_DATA_DIR'> = config()): string {
  return c.QFDATA_SECRETS_KEY_FILE ?? path.join(c.QFDATA_DATA_DIR, 'secrets.key');
}

/** The sealer a configuration names (KMS key id, or the key file). */
export function createSealer(
  c: Pick<Config, 'QFDATA_SECRETS_KMS_KEY_ID' | 'QFDATA_SECRETS_KEY_FILE' | 'QFDATA_DATA_DIR' | 'AWS_REGION' | 'QFDATA_KMS_ENDPOINT'>,
): SecretSealer {
  if (c.QFDATA_SECRETS_KMS_KEY_ID) return kmsSealer(c.QFDATA_SECRETS_KMS_KEY_ID, c.AWS_REGION, c.QFDATA_KMS_ENDPOINT);
  return FileKeySealer.fromFile(secretsKeyFile(c));
}

/** The KMS sealer over the house's JSON-protocol client (loaded on first use) for `keyId` in `region`. */
export function kmsSealer(keyId: string, region: string, endpoint?: string): KmsSealer {
  return new KmsSealer(lazyKms(region, endpoint), keyId);
}

/** KMS's JSON 1.1 protocol: blobs travel as base64. */
function lazyKms(region: string, endpoint: string | undefined): KmsApi {
  const kms = lazy(async () => {
    const { AwsJsonClient } = await import('../store/aws-json.js');
    const client = new AwsJsonClient({ service: 'kms', targetPrefix: 'TrentService', jsonVersion: '1.1', region, ...(endpoint ? { endpoint } : {}) });
    const blob = (base64: unknown) => (typeof base64 === 'string' ? Buffer.from(base64, 'base64') : undefined);
    return {
      encrypt: async ({ Plaintext, ...input }) => {
        const out = await client.call<{ CiphertextBlob?: string }>('Encrypt', { ...input, Plaintext: Buffer.from(Plaintext).toString('base64') });
        return { CiphertextBlob: blob(out.CiphertextBlob) };
      },
      decrypt: async ({ CiphertextBlob, ...input }) => {
        const out = await client.call<{ Plaintext?: string }>('Decrypt', { ...input, CiphertextBlob: Buffer.from(CiphertextBlob).toString('base64') });
        return { Plaintext: blob(out.Plaintext) };
      },
    } satisfies KmsApi;
  });
  return {
    encrypt: async (input) => (await kms()).encrypt(input),
    decrypt: async (input) => (await kms()).decrypt(input),
  };
}
