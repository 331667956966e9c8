/**
 * Buckets belong to accounts. Several accounts share one deployment, so a bucket a request names (an import's
 * files, a dataset's storage, an export's destination) must be one the caller's account may use: one it owns, or
 * one granted to it. Otherwise the request is refused with `AccessDenied` naming the bucket, before anything is
 * stored or any task exists.
 *
 * - The platform bucket (Qianfan's `sysBos` / `sysStorage`) is never a user bucket: no request may name it.
 * - The account that creates a bucket through qfdata (`CreateBucket`, `qfdata buckets create`, or an operator with
 *   `npm run buckets -- create`) owns it; its owner (or an operator) grants it to other accounts and takes grants
 *   back.
 * - A bucket that exists with no owner known to qfdata (a directory made by hand in the local twin, a bucket named at
 *   deploy in the cloud) belongs to the root account until an operator says otherwise.
 *
 * Owners and grants live in the metadata store, keyed by bucket (names are global), with an index by account.
 */
import {
  AccessDeniedError,
  BucketAlreadyExistsError,
  InappropriateJSONError,
  notFound,
  NotSupportedError,
} from '../errors.js';
import type { ObjectStore } from '../objects/index.js';
import { ConditionFailedError, type MetadataStore } from '../store/port.js';
import type { BucketGrant, Clock } from '../model.js';
import type { Caller } from './service.js';

export interface BucketSettings {
  /** The bucket playing Qianfan's platform storage: nobody's bucket. */
  platformBucket: string;
  /** The account that owns buckets nobody has claimed. */
  rootAccount: string;
  /** Whether `CreateBucket` may create buckets in the object store (the local twin), or only operators name them. */
  canCreate: boolean;
  /**
   * The buckets this deployment may use besides its platform bucket (`QFDATA_USER_BUCKETS`, the functions' IAM
   * permissions name the same), or `*` for any (the local twin). Absent: any.
   */
  userBuckets?: '*' | readonly string[];
}

export interface BucketDeps {
  store: MetadataStore;
  objects: ObjectStore;
  settings: BucketSettings;
  now?: Clock;
}

/** A bucket as its listing shows it to an account. */
export interface BucketView {
  bucket: string;
  role: 'owner' | 'grantee';
  /** For the owner: the accounts it is granted to. */
  grants?: string[];
}

export { ACCOUNT_NAME } from '../model.js';

export class BucketService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #settings: BucketSettings;
  readonly #now: Clock;

  constructor(deps: BucketDeps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#settings = deps.settings;
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Refuses, unless the caller's account may use `bucket` and it exists: `AccessDenied` for the platform bucket and
   * for another account's bucket; `InappropriateJSON` (through `missing`) for a bucket that does not exist.
   * `missing(bucket)` builds that error in the caller's wording (it knows which request field named the bucket).
   */
  async assertUsable(caller: Caller, bucket: string, missing: (bucket: string) => Error): Promise<void> {
    this.#refusePlatform(bucket);
    this.#refuseUnlisted(bucket);
    const { owner, grants } = await this.#store.getBucketAccess(bucket);
    const granted = grants.some((g) => g.account === caller.account);
    if (owner) {
      if (owner.owner !== caller.account && !granted) throw notYours(bucket);
      if (!(await this.#objects.bucketExists(bucket))) throw missing(bucket);
      return;
    }
    if (!(await this.#objects.bucketExists(bucket))) throw missing(bucket);
    if (caller.account !== this.#settings.rootAccount && !granted) throw notYours(bucket);
  }

  /**
   * Creates a bucket owned by the caller's account (the local twin; in the cloud, buckets are named at deploy and
   * granted by an operator). Creating a bucket the caller already owns succeeds; a name someone else holds (an
   * owner, the root account's unclaimed bucket, the platform) is `BucketAlreadyExists`.
   */
  async create(caller: Caller, bucket: string): Promise<BucketView> {
    this.#refuseTaken(bucket);
    this.#refuseUnlisted(bucket);
    if (!this.#settings.canCreate) {
      throw new NotSupportedError(
        'Buckets of a deployment are named when it is deployed; ask the operator to grant one to your account (npm run buckets -- grant <bucket> --account <account>).',
      );
    }
    return this.#claim(caller.account, bucket, { create: true });
  }

  /** Grants the caller's bucket to another account (the owner's full-control keys, or an operator). */
  async grant(caller: Caller, bucket: string, account: string, options: { operator?: boolean } = {}): Promise<void> {
    if (!options.operator) await this.#assertOwner(caller, bucket);
    else await this.#claimForOperator(bucket);
    if (account === (await this.#store.getBucketAccess(bucket)).owner?.owner) return;
    const grant: BucketGrant = { bucket, account, grantedBy: options.operator ? 'operator' : caller.account, createdAt: new Date(this.#now()).toISOString() };
    await this.#store.putBucketGrant(grant);
  }

  /** Takes a grant back (nothing to take back is no error). */
  async revoke(caller: Caller, bucket: string, account: string, options: { operator?: boolean } = {}): Promise<void> {
    if (!options.operator) await this.#assertOwner(caller, bucket);
    await this.#store.deleteBucketGrant(bucket, account);
  }

  /** The buckets the caller's account may use: owned (with their grants) and granted; the root account also sees unclaimed ones. */
  async list(caller: Caller): Promise<BucketView[]> {
    const mine = await this.#store.listAccountBuckets(caller.account);
    const views = await Promise.all(
      mine.map(async ({ bucket, role }): Promise<BucketView> => {
        if (role !== 'owner') return { bucket, role };
        const { grants } = await this.#store.getBucketAccess(bucket);
        return { bucket, role, grants: grants.map((g) => g.account).sort() };
      }),
    );
    if (caller.account === this.#settings.rootAccount && this.#settings.canCreate) {
      const known = new Set(views.map((v) => v.bucket));
      for (const bucket of await this.#objects.listBuckets()) {
        if (bucket === this.#settings.platformBucket || known.has(bucket)) continue;
        if ((await this.#store.getBucketAccess(bucket)).owner) continue;
        views.push({ bucket, role: 'owner', grants: [] });
      }
    }
    return views.sort((a, b) => (a.bucket < b.bucket ? -1 : a.bucket > b.bucket ? 1 : 0));
  }

  /** Operators: makes `owner` the owner of `bucket`, creating it in the object store if it is missing. */
  async createForOperator(bucket: string, owner: string): Promise<BucketView> {
    this.#refuseTaken(bucket);
    this.#refuseUnlisted(bucket);
    return this.#claim(owner, bucket, { create: true, operator: true });
  }

  // ----- internals -------------------------------------------------------------------------------------------

  #refusePlatform(bucket: string): void {
    if (bucket === this.#settings.platformBucket) {
      throw new AccessDeniedError(`Access denied: the bucket "${bucket}" is qfdata's platform storage, which requests cannot name; use a bucket of your own.`);
    }
  }

  /** A bucket the deployment was not given (its roles could not reach it anyway) is refused, saying how to allow it. */
  #refuseUnlisted(bucket: string): void {
    const allowed = this.#settings.userBuckets ?? '*';
    if (allowed !== '*' && !allowed.includes(bucket)) {
      throw new AccessDeniedError(
        `Access denied: the bucket "${bucket}" is not one this deployment may use. Its operator names those buckets when deploying: add it to the stage parameter userBuckets (npx sls deploy --param="userBuckets=<bucket>,…", which sets QFDATA_USER_BUCKETS and the functions' IAM permissions) and deploy again.`,
      );
    }
  }

  #refuseTaken(bucket: string): void {
    if (bucket === this.#settings.platformBucket) throw new BucketAlreadyExistsError(`The bucket "${bucket}" is qfdata's platform storage; choose another name.`);
  }

  /** Records `account` as the owner (creating the bucket if asked); succeeds if it owns it already. */
  async #claim(account: string, bucket: string, options: { create: boolean; operator?: boolean }): Promise<BucketView> {
    const { owner } = await this.#store.getBucketAccess(bucket);
    if (owner) {
      if (owner.owner === account) return { bucket, role: 'owner', grants: [] };
      throw taken(bucket);
    }
    // A bucket that exists with no owner belongs to the root account: only it (or an operator) may claim it.
    const exists = await this.#objects.bucketExists(bucket);
    if (exists && account !== this.#settings.rootAccount && !options.operator) throw taken(bucket);
    try {
      await this.#store.putBucketOwner({ bucket, owner: account, createdAt: new Date(this.#now()).toISOString() });
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      // A concurrent create won: ours only if it was for the same account.
      if ((await this.#store.getBucketAccess(bucket)).owner?.owner !== account) throw taken(bucket);
    }
    if (!exists && options.create) await this.#objects.createBucket(bucket);
    return { bucket, role: 'owner', grants: [] };
  }

  /** An operator's grant on an unclaimed bucket first records it as the root account's, so ownership is explicit. */
  async #claimForOperator(bucket: string): Promise<void> {
    this.#refusePlatform(bucket);
    this.#refuseUnlisted(bucket);
    const { owner } = await this.#store.getBucketAccess(bucket);
    if (owner) return;
    if (!(await this.#objects.bucketExists(bucket))) throw new InappropriateJSONError(`The bucket "${bucket}" does not exist.`);
    await this.#claim(this.#settings.rootAccount, bucket, { create: false, operator: true });
  }

  async #assertOwner(caller: Caller, bucket: string): Promise<void> {
    this.#refusePlatform(bucket);
    const { owner } = await this.#store.getBucketAccess(bucket);
    if (owner) {
      if (owner.owner !== caller.account) throw notOwner(bucket);
      return;
    }
    if (!(await this.#objects.bucketExists(bucket))) throw notFound('bucket', bucket);
    if (caller.account !== this.#settings.rootAccount) throw notOwner(bucket);
    await this.#claim(caller.account, bucket, { create: false });
  }
}

function notYours(bucket: string): AccessDeniedError {
  return new AccessDeniedError(
    `Access denied: the bucket "${bucket}" is not one of your account's buckets; use a bucket your account owns, or ask its owner to grant it to your account.`,
  );
}

function notOwner(bucket: string): AccessDeniedError {
  return new AccessDeniedError(`Access denied: only the owner of the bucket "${bucket}" may grant it or take grants back.`);
}

function taken(bucket: string): BucketAlreadyExistsError {
  return new BucketAlreadyExistsError(`The bucket "${bucket}" already exists and belongs to another account; choose another name.`);
}
