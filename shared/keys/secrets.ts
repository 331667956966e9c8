/**
 * Secret keys at rest: every access key's secret is sealed before it reaches the store and opened only to verify a
 * signature. Two sealers, chosen by configuration (`createSealer()` in ./index.ts):
 *
 * - `FileKeySealer` (local default): AES-256-GCM under a 32-byte key read from a key file that must be readable by
 *   its owner only (mode 0600). `npm start` creates the file on first run; a function never creates it, so a
 *   missing or loose key file fails loudly instead of sealing under a key nobody keeps.
 * - `KmsSealer` (cloud): AWS KMS Encrypt/Decrypt under the deployment's key.
 *
 * Both bind a sealed secret to its access key and account (GCM additional data; KMS encryption context), so a
 * sealed value copied onto another key record does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Whose secret a sealed value is: bound into the ciphertext. */
export interface SealContext {
  accessKeyId: string;
  account: string;
}

export interface SecretSealer {
  seal(secret: string, context: SealContext): Promise<string>;
  open(sealed: string, context: SealContext): Promise<string>;
}

const FILE_PREFIX = 'aes256gcm';
const KMS_PREFIX = 'kms';

function additionalData({ accessKeyId, account }: SealContext): Buffer {
  return Buffer.from(`qfdata-access-key\0${account}\0${accessKeyId}`, 'utf8');
}

/** AES-256-GCM under a local key: `aes256gcm:<key id>:<iv>:<ciphertext + tag>` (base64url parts). */
export class FileKeySealer implements SecretSealer {
  readonly #key: Buffer;
  /** A short fingerprint of the key, so a value sealed under another key file says so. */
  readonly keyId: string;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('the secrets key must be 32 bytes');
    this.#key = key;
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 12);
  }

  /** Reads a key file written by {@link ensureKeyFile}; refuses one that group or others can read. */
  static fromFile(file: string): FileKeySealer {
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch {
      throw new Error(`the secrets key file ${file} does not exist: npm start creates it (or set QFDATA_SECRETS_KEY_FILE, or QFDATA_SECRETS_KMS_KEY_ID in the cloud)`);
    }
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new Error(`the secrets key file ${file} is readable by others (mode ${(mode & 0o777).toString(8)}): run chmod 600 ${file}`);
    }
    const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`the secrets key file ${file} must hold 32 bytes in base64`);
    return new FileKeySealer(key);
  }

  async seal(secret: string, context: SealContext): Promise<string> {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(additionalData(context));
    const body = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [FILE_PREFIX, this.keyId, iv.toString('base64url'), body.toString('base64url')].join(':');
  }

  async open(sealed: string, context: SealContext): Promise<string> {
    const [prefix, keyId, iv, body] = sealed.split(':');
    if (prefix !== FILE_PREFIX || !keyId || !iv || !body) throw new Error(`access key ${context.accessKeyId}: its secret is not sealed by a key file`);
    if (keyId !== this.keyId) throw new Error(`access key ${context.accessKeyId}: its secret was sealed under key ${keyId}, but the key file holds ${this.keyId}`);
    const bytes = Buffer.from(body, 'base64url');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(additionalData(context));
    decipher.setAuthTag(bytes.subarray(bytes.length - 16));
    return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
  }
}

/** Creates the key file (32 random bytes, mode 0600) if it does not exist; returns its path. */
export function ensureKeyFile(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  try {
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  // A umask cannot widen 0600, but a file copied in by hand may be looser: FileKeySealer.fromFile says so.
  return file;
}

/** What the KMS sealer needs of a KMS client (the AWS SDK's, or a fake in unit tests). */
export interface KmsApi {
  encrypt(input: { KeyId: string; Plaintext: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ CiphertextBlob?: Uint8Array }>;
  decrypt(input: { KeyId: string; CiphertextBlob: Uint8Array; EncryptionContext: Record<string, string> }): Promise<{ Plaintext?: Uint8Array }>;
}

/** AWS KMS: `kms:<ciphertext blob>` (base64url), encryption context `{qfdata: access-key, account, accessKeyId}`. */
export class KmsSealer implements SecretSealer {
  readonly #kms: KmsApi;
  readonly #keyId: string;

  constructor(kms: KmsApi, keyId: string) {
    this.#kms = kms;
    this.#keyId = keyId;
  }

  async seal(secret: string, context: SealContext): Promise<string> {
    const out = await this.#kms.encrypt({ KeyId: this.#keyId, Plaintext: Buffer.from(secret, 'utf8'), EncryptionContext: kmsContext(context) });
    if (!out.CiphertextBlob) throw new Error('KMS Encrypt returned no ciphertext');
    return `${KMS_PREFIX}:${Buffer.from(out.CiphertextBlob).toString('base64url')}`;
  }

  async open(sealed: string, context: SealContext): Promise<string> {
    const [prefix, blob] = sealed.split(':');
    if (prefix !== KMS_PREFIX || !blob) throw new Error(`access key ${context.accessKeyId}: its secret is not sealed by KMS`);
    const out = await this.#kms.decrypt({ KeyId: this.#keyId, CiphertextBlob: Buffer.from(blob, 'base64url'), EncryptionContext: kmsContext(context) });
    if (!out.Plaintext) throw new Error('KMS Decrypt returned no plaintext');
    return Buffer.from(out.Plaintext).toString('utf8');
  }
}

function kmsContext({ accessKeyId, account }: SealContext): Record<string, string> {
  return { qfdata: 'access-key', account, accessKeyId };
}
