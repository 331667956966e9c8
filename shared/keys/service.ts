/**
 * Access keys: created, listed, disabled, enabled, rotated and deleted within the caller's account, and resolved
 * (secret opened) for signature checks. The plain secret exists only in the answer to a create or a rotate and in
 * memory while verifying; the store holds it sealed (./secrets.ts).
 *
 * Another account's key answers exactly as a key that does not exist: one GetItem either way, then the same
 * `ResourceNotFound`.
 */
import { randomBytes } from 'node:crypto';
import { PreconditionFailedError, ResourceNotFoundError } from '../errors.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import type { AccessKeyRecord, Clock } from '../model.js';
import { DEFAULT_POLICY, type PolicyName } from './policies.js';
import type { SecretSealer } from './secrets.js';

/** How many keys (enabled or not) one account may hold: creating or rotating past it asks to delete one first. */
export const MAX_KEYS_PER_ACCOUNT = 20;

/** What a key-management call acts for. */
export interface KeyCaller {
  account: string;
  accessKeyId: string;
}

/** A key as the signature check needs it. */
export interface ResolvedKey {
  record: AccessKeyRecord;
  secretAccessKey: string;
}

/** A key just made (the only time its secret is seen): the same shape as a resolved key. */
export type IssuedKey = ResolvedKey;

export interface NewKeyOptions {
  policy?: PolicyName;
  description?: string;
}

export interface AccessKeyServiceDeps {
  store: MetadataStore;
  sealer: SecretSealer;
  now?: Clock;
  /**
   * How long {@link AccessKeyService.resolve} keeps a resolved key in this process (QFDATA_KEY_CACHE_SECONDS in
   * the functions); 0, the default, reads the store every time. A change made through this service drops the key
   * at once; changes made elsewhere are seen when the entry expires.
   */
  cacheMs?: number;
}

/** 32 hex characters, as Baidu Cloud's access key ids are. */
export function newAccessKeyId(): string {
  return randomBytes(16).toString('hex');
}

/** 256 random bits, base64url (43 characters: safe in environment variables and `.env` files). */
export function newSecretAccessKey(): string {
  return randomBytes(32).toString('base64url');
}

export class AccessKeyService {
  readonly #store: MetadataStore;
  readonly #sealer: SecretSealer;
  readonly #now: Clock;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { key: ResolvedKey; until: number }>();

  constructor(deps: AccessKeyServiceDeps) {
    this.#store = deps.store;
    this.#sealer = deps.sealer;
    this.#now = deps.now ?? Date.now;
    this.#cacheMs = deps.cacheMs ?? 0;
  }

  /**
   * The key behind a signature, its secret opened; undefined if there is no such key. Cached for `cacheMs`
   * (fail-closed: a store or KMS error rejects, and nothing is cached), so the signature check and the download
   * links of one request read the key once.
   */
  async resolve(accessKeyId: string): Promise<ResolvedKey | undefined> {
    const now = this.#now();
    const hit = this.#cache.get(accessKeyId);
    if (hit && hit.until > now) return hit.key;
    const key = await this.#read(accessKeyId);
    if (key && this.#cacheMs > 0) this.#cache.set(accessKeyId, { key, until: now + this.#cacheMs });
    else this.#cache.delete(accessKeyId);
    return key;
  }

  async #read(accessKeyId: string): Promise<ResolvedKey | undefined> {
    const record = await this.#store.getAccessKey(accessKeyId);
    // A record from before secrets were sealed (a plain `secretAccessKey`) is not a usable key: make it again.
    if (!record || typeof record.sealedSecret !== 'string') return undefined;
    const secretAccessKey = await this.#sealer.open(record.sealedSecret, record);
    return { record, secretAccessKey };
  }

  async create(caller: KeyCaller, options: NewKeyOptions = {}): Promise<IssuedKey> {
    await this.#assertRoom(caller.account);
    return this.#issue(caller.account, options, {});
  }

  async list(caller: KeyCaller): Promise<AccessKeyRecord[]> {
    return this.#store.listAccessKeys(caller.account);
  }

  async describe(caller: KeyCaller, accessKeyId: string): Promise<AccessKeyRecord> {
    return this.#own(caller, accessKeyId);
  }

  /** Stops a key from signing (within the key cache's lifetime, QFDATA_KEY_CACHE_SECONDS). Idempotent. */
  async disable(caller: KeyCaller, accessKeyId: string): Promise<AccessKeyRecord> {
    const record = await this.#own(caller, accessKeyId);
    if (accessKeyId === caller.accessKeyId) {
      throw new PreconditionFailedError(`The access key ${accessKeyId} signed this request: disable it with another key of the account, so the account keeps a working key.`);
    }
    if (!record.enabled) return record;
    return this.#update(caller, accessKeyId, { enabled: false, disabledAt: new Date(this.#now()).toISOString() }, true);
  }

  /** Lets a disabled key sign again. Idempotent. */
  async enable(caller: KeyCaller, accessKeyId: string): Promise<AccessKeyRecord> {
    const record = await this.#own(caller, accessKeyId);
    if (record.enabled) return record;
    return this.#update(caller, accessKeyId, { enabled: true }, false);
  }

  /**
   * A new key with the same account, policy and description, replacing `accessKeyId`. The old key keeps working
   * until it is disabled, so clients can move over; both records name each other.
   */
  async rotate(caller: KeyCaller, accessKeyId: string): Promise<IssuedKey> {
    const old = await this.#own(caller, accessKeyId);
    if (!old.enabled) throw new PreconditionFailedError(`The access key ${accessKeyId} is disabled: enable it first, or create a new key.`);
    await this.#assertRoom(caller.account);
    // The new key first: a crash before the second write leaves a working new key, and the old one unmarked.
    const issued = await this.#issue(caller.account, { policy: old.policy as PolicyName, description: old.description }, { rotatedFrom: accessKeyId });
    await this.#update(caller, accessKeyId, { rotatedTo: issued.record.accessKeyId });
    return issued;
  }

  /** Removes a disabled key for good. */
  async delete(caller: KeyCaller, accessKeyId: string): Promise<void> {
    const record = await this.#own(caller, accessKeyId);
    if (record.enabled) throw new PreconditionFailedError(`The access key ${accessKeyId} is enabled: disable it before deleting it.`);
    try {
      await this.#store.deleteAccessKey(caller.account, accessKeyId);
    } catch (error) {
      if (error instanceof ConditionFailedError) throw new PreconditionFailedError(`The access key ${accessKeyId} changed while it was being deleted: try again.`, { cause: error });
      throw error;
    } finally {
      this.#cache.delete(accessKeyId);
    }
  }

  /**
   * Operator bootstrap (the launcher's and `npm run root-key`'s root keys): stores a key for any account, with a
   * given id and secret or new ones, replacing a key of the same id. Not reachable over HTTP.
   */
  async issueForOperator(input: { account: string; accessKeyId?: string; secretAccessKey?: string; policy?: PolicyName; description?: string }): Promise<IssuedKey> {
    const accessKeyId = input.accessKeyId ?? newAccessKeyId();
    const secretAccessKey = input.secretAccessKey ?? newSecretAccessKey();
    const record = await this.#record(input.account, accessKeyId, secretAccessKey, { policy: input.policy ?? DEFAULT_POLICY, description: input.description ?? 'root key' }, {});
    await this.#store.putAccessKey(record);
    this.#cache.delete(accessKeyId);
    return { record, secretAccessKey };
  }

  async #issue(account: string, options: NewKeyOptions, extra: Pick<AccessKeyRecord, 'rotatedFrom'>): Promise<IssuedKey> {
    const accessKeyId = newAccessKeyId();
    const secretAccessKey = newSecretAccessKey();
    const record = await this.#record(account, accessKeyId, secretAccessKey, options, extra);
    await this.#store.createAccessKey(record);
    return { record, secretAccessKey };
  }

  async #record(account: string, accessKeyId: string, secretAccessKey: string, options: NewKeyOptions, extra: Pick<AccessKeyRecord, 'rotatedFrom'>): Promise<AccessKeyRecord> {
    return {
      accessKeyId,
      account,
      sealedSecret: await this.#sealer.seal(secretAccessKey, { accessKeyId, account }),
      policy: options.policy ?? DEFAULT_POLICY,
      enabled: true,
      description: options.description ?? '',
      createdAt: new Date(this.#now()).toISOString(),
      ...extra,
    };
  }

  async #own(caller: KeyCaller, accessKeyId: string): Promise<AccessKeyRecord> {
    const record = await this.#store.getAccessKey(accessKeyId);
    if (!record || record.account !== caller.account) throw new ResourceNotFoundError(`The access key ${accessKeyId} does not exist.`);
    return record;
  }

  async #update(caller: KeyCaller, accessKeyId: string, changes: Parameters<MetadataStore['updateAccessKey']>[2], expectEnabled?: boolean): Promise<AccessKeyRecord> {
    try {
      return await this.#store.updateAccessKey(caller.account, accessKeyId, changes, expectEnabled);
    } catch (error) {
      if (error instanceof ConditionFailedError) throw new PreconditionFailedError(`The access key ${accessKeyId} changed meanwhile: read it again and retry.`, { cause: error });
      throw error;
    } finally {
      // After the write: a resolve racing it must not cache the old record again.
      this.#cache.delete(accessKeyId);
    }
  }

  async #assertRoom(account: string): Promise<void> {
    const held = (await this.#store.listAccessKeys(account)).length;
    if (held >= MAX_KEYS_PER_ACCOUNT) {
      throw new PreconditionFailedError(`The account holds ${held} access keys, the most it may: disable and delete one it no longer uses first.`);
    }
  }
}
