/**
 * The dataset service: what the functions call. It owns the rules of the model (ids, storage layout, versions,
 * publishing, deletion, clientToken retries) and talks to the metadata and object ports; it knows nothing of HTTP,
 * envelopes or AWS types. A later backend (an upstream Qianfan) can stand behind the same methods without the
 * functions noticing.
 */
import { InappropriateJSONError, notFound, PreconditionFailedError, ResourceNotFoundError } from '../errors.js';
import { datasetEvent, versionEvent } from '../events/catalog.js';
import { EventRelay } from '../events/relay.js';
import { describeCause, log } from '../log.js';
import { NoSuchBucketError, type ObjectStore } from '../objects/index.js';
import { ConditionFailedError, type MetadataStore, type OutboxItem } from '../store/port.js';
import { type Clock, type DataFormat, type DatasetRecord, type ImportStatus, type PublishStatus, type StorageType, type Tombstone, type VersionRecord } from '../model.js';
import { isId, newId } from './ids.js';
import type { BucketService } from './buckets.js';
import { idempotent, type ClientToken } from './idempotency.js';
import { versionDirectory, versionStorage } from './layout.js';
import { pageInfo, pageQuery, type PageInfo, type PageRequest } from './pagination.js';

export interface DatasetSettings {
  /** The bucket playing Qianfan's platform storage. */
  platformBucket: string;
  /** Objects deleted per step of a purge, between two looks at the budget (default 1000, one S3 DeleteObjects). */
  purgeBatch?: number;
}

/** How long a background run may still go on. */
export interface PurgeBudget {
  remainingMs(): number;
}

/** A purge step is not started with less time than this left (a step of 1000 deletes takes well under a second). */
const PURGE_RESERVE_MS = 10_000;

/** Who a request acts for: the account, and (for the links handed out) the access key that signed it. */
export interface Caller {
  account: string;
  accessKeyId?: string;
}

export interface NewDatasetInput {
  name: string;
  dataFormat: DataFormat;
  storageType: StorageType;
  /** For `BOS` storage: the user's bucket and directory (`/dir/`, or `/` for the bucket root). */
  bucket?: string;
  dir?: string;
  /** V1 types as given (V1 create) or derived from the format (V2 create). */
  projectType: number;
  templateType: number;
  dataType: number;
}

export interface DatasetListRequest extends PageRequest {
  formats?: readonly DataFormat[];
  nameContains?: string;
}

export interface VersionListRequest extends PageRequest {
  importStatuses?: readonly ImportStatus[];
  publishStatuses?: readonly PublishStatus[];
}

/** A version together with the dataset it belongs to: the unit every version read returns. */
export interface VersionView {
  dataset: DatasetRecord;
  version: VersionRecord;
}

/** A version as V1 names it: the `ds-` string, or the legacy integer id (deprecated, still accepted). */
export type VersionRef = string | number;

export interface Deps {
  store: MetadataStore;
  objects: ObjectStore;
  /** Who may use which bucket (a dataset on a user's bucket needs the bucket to be the caller's). */
  buckets: BucketService;
  settings: DatasetSettings;
  /** Records and publishes the events of creations, publications and deletions (none recorded when omitted). */
  events?: EventRelay;
  /** Asks the scheduled runner to run now (it purges deleted datasets and versions); a no-op where it cannot. */
  kick?: () => Promise<void>;
  now?: Clock;
}

export class DatasetService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #buckets: BucketService;
  readonly #settings: DatasetSettings;
  readonly #events: EventRelay;
  readonly #now: Clock;
  readonly #kick: () => Promise<void>;

  constructor(deps: Deps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#buckets = deps.buckets;
    this.#settings = deps.settings;
    this.#events = deps.events ?? new EventRelay({ store: deps.store });
    this.#now = deps.now ?? Date.now;
    this.#kick = deps.kick ?? (async () => {});
  }

  // ----- datasets --------------------------------------------------------------------------------------------

  /** Creates a dataset with its first (empty) version. Safe to repeat with the same `clientToken`. */
  async createDataset(caller: Caller, input: NewDatasetInput, token?: ClientToken): Promise<VersionView> {
    const bucket = input.storageType === 'BOS' ? (input.bucket ?? '') : this.#settings.platformBucket;
    const dir = input.storageType === 'BOS' ? (input.dir ?? '/') : '/';
    if (input.storageType === 'BOS') {
      await this.#buckets.assertUsable(caller, bucket, (b) => new InappropriateJSONError(`The bucket "${b}" does not exist or is not reachable by qfdata.`));
    }
    return idempotent(this.#store, caller.account, token, input, {
      plan: async () => ({
        datasetId: newId('dataset'),
        versionId: newId('version'),
        legacyId: await this.#store.allocateLegacyIds(2),
        at: new Date(this.#now()).toISOString(),
      }),
      run: async (plan) => {
        const done = await this.#store.getDataset(caller.account, plan.datasetId);
        if (done) return { dataset: done, version: await this.#mustGetVersion(caller, plan.versionId) };
        const dataset = {
          account: caller.account,
          datasetId: plan.datasetId,
          legacyId: plan.legacyId,
          name: input.name,
          dataFormat: input.dataFormat,
          storageType: input.storageType,
          storageBucket: bucket,
          storageDir: dir,
          projectType: input.projectType,
          templateType: input.templateType,
          dataType: input.dataType,
          createdAt: plan.at,
          modifiedAt: plan.at,
        };
        const firstVersion = this.#newVersion(caller, plan.datasetId, { bucket, dir, format: input.dataFormat }, plan.versionId, plan.legacyId + 1, '', plan.at);
        // Both events ride on the dataset item, the visible record written last: told only once it exists.
        const events = this.#events.record(
          datasetEvent(dataset, 'Created', plan.at, [plan.versionId]),
          versionEvent({ ...firstVersion, versionNumber: 1 }, 'Created', plan.at),
        );
        const created = await this.#store.createDataset({ dataset, firstVersion }, events).catch(async (error: unknown) => {
          // A concurrent request with the same clientToken stored it first: that is the one result.
          const winner = error instanceof ConditionFailedError ? await this.#store.getDataset(caller.account, plan.datasetId) : undefined;
          if (!winner) throw error;
          return { dataset: winner, firstVersion: await this.#mustGetVersion(caller, plan.versionId), lost: true };
        });
        if (!('lost' in created)) await this.#events.relay({ kind: 'dataset', account: caller.account, id: plan.datasetId }, events);
        return { dataset: created.dataset, version: created.firstVersion };
      },
    }, this.#now);
  }

  async getDataset(caller: Caller, datasetId: string): Promise<DatasetRecord> {
    const dataset = isId('dataset', datasetId) ? await this.#store.getDataset(caller.account, datasetId) : undefined;
    if (!dataset) throw datasetNotFound(datasetId);
    return dataset;
  }

  /** One page of the caller's datasets, in creation order (or reversed). */
  async listDatasets(caller: Caller, request: DatasetListRequest): Promise<{ pageInfo: PageInfo; datasets: DatasetRecord[] }> {
    const page = await this.#store.listDatasets(caller.account, {
      ...pageQuery(request, 'dataset'),
      ...(request.formats && request.formats.length > 0 ? { formats: request.formats } : {}),
      ...(request.nameContains ? { nameContains: request.nameContains } : {}),
    });
    return {
      pageInfo: pageInfo(request, { more: page.more, lastId: page.items.at(-1)?.datasetId }),
      datasets: page.items,
    };
  }

  /**
   * Deletes a dataset with all its versions and everything stored for them, answering at once: a tombstone is
   * written first, then the dataset's item and its versions' items are removed, so from then on nothing of it is
   * visible; the objects, sample edits and lookups go in the background ({@link purgeDeletions}), and the
   * tombstone last. A repeat finds the tombstone and finishes hiding what a request that died left visible; if
   * nothing was visible any more, it answers as for any missing dataset.
   */
  async deleteDataset(caller: Caller, datasetId: string): Promise<void> {
    const account = caller.account;
    let tombstone = isId('dataset', datasetId) ? await this.#store.getTombstone(account, datasetId) : undefined;
    if (tombstone && !(await this.#store.getDataset(account, datasetId))) {
      await this.#hide(tombstone);
      await this.#kickPurge(tombstone);
      throw datasetNotFound(datasetId);
    }
    if (!tombstone) {
      const dataset = await this.getDataset(caller, datasetId);
      const versions = await this.#store.allVersions(account, dataset.datasetId);
      tombstone = {
        account,
        id: dataset.datasetId,
        kind: 'dataset',
        datasetId: dataset.datasetId,
        versions: versions.map(({ versionId, legacyId, storage }) => ({ versionId, legacyId, storage })),
        createdAt: new Date(this.#now()).toISOString(),
      };
      // The deletion's event rides on the tombstone; it is published when the deletion is done.
      await this.#store.putTombstone(tombstone, this.#events.record(datasetEvent(dataset, 'Deleted', tombstone.createdAt, tombstone.versions.map((v) => v.versionId))));
    }
    await this.#hide(tombstone);
    await this.#kickPurge(tombstone);
  }

  // ----- versions --------------------------------------------------------------------------------------------

  /** A new, empty version of a dataset. Numbers increase and never repeat. Safe to repeat with a `clientToken`. */
  async createVersion(caller: Caller, datasetId: string, description: string, token?: ClientToken): Promise<VersionView> {
    const dataset = await this.getDataset(caller, datasetId);
    return idempotent(this.#store, caller.account, token, { datasetId, description }, {
      plan: async () => {
        const at = new Date(this.#now()).toISOString();
        const versionNumber = await this.#store
          .nextVersionNumber(caller.account, dataset.datasetId, at)
          .catch(rethrowCondition(() => datasetNotFound(datasetId)));
        return { versionId: newId('version'), legacyId: await this.#store.allocateLegacyIds(1), versionNumber, at };
      },
      run: async (plan) => {
        const done = await this.#store.getVersion(caller.account, plan.versionId);
        if (done) return { dataset, version: done };
        const version: VersionRecord = {
          ...this.#newVersion(
            caller,
            dataset.datasetId,
            { bucket: dataset.storageBucket, dir: dataset.storageDir, format: dataset.dataFormat },
            plan.versionId,
            plan.legacyId,
            description,
            plan.at,
          ),
          versionNumber: plan.versionNumber,
        };
        const events = this.#events.record(versionEvent(version, 'Created', plan.at));
        await this.#store.putVersion(version, events);
        await this.#events.relay({ kind: 'version', account: caller.account, id: version.versionId }, events);
        return { dataset, version };
      },
    }, this.#now);
  }

  /** A version and its dataset, by `ds-` id or legacy integer id. */
  async getVersion(caller: Caller, ref: VersionRef): Promise<VersionView> {
    return this.#viewOf(caller, ref, await this.#versionIdOf(caller, ref));
  }

  /**
   * {@link getVersion} for a reference already resolved (to `versionId`, undefined if it names none); `datasetOf`
   * lets a caller reading many versions read each dataset once.
   */
  async #viewOf(
    caller: Caller,
    ref: VersionRef,
    versionId: string | undefined,
    datasetOf = (datasetId: string) => this.#store.getDataset(caller.account, datasetId),
  ): Promise<VersionView> {
    const version = versionId ? await this.#store.getVersion(caller.account, versionId) : undefined;
    const dataset = version ? await datasetOf(version.datasetId) : undefined;
    if (!version || !dataset) throw versionNotFound(ref);
    return { dataset, version };
  }

  /**
   * Several versions at once (V1 `statusList`); every id must exist. The reads run together, but a refusal names
   * the first missing id in the request's order, not whichever read failed first: the same request always gets
   * the same answer.
   */
  async getVersions(caller: Caller, refs: readonly VersionRef[]): Promise<VersionView[]> {
    // The versions of one request usually share a dataset: read each dataset once.
    const datasets = new Map<string, Promise<DatasetRecord | undefined>>();
    const datasetOf = (datasetId: string) => {
      let read = datasets.get(datasetId);
      if (!read) datasets.set(datasetId, (read = this.#store.getDataset(caller.account, datasetId)));
      return read;
    };
    const settled = await Promise.allSettled(refs.map(async (ref) => this.#viewOf(caller, ref, await this.#versionIdOf(caller, ref), datasetOf)));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((r) => (r as PromiseFulfilledResult<VersionView>).value);
  }

  async listVersions(caller: Caller, datasetId: string, request: VersionListRequest): Promise<{ pageInfo: PageInfo; dataset: DatasetRecord; versions: VersionRecord[] }> {
    const dataset = await this.getDataset(caller, datasetId);
    const page = await this.#store.listVersions(caller.account, dataset.datasetId, {
      ...pageQuery(request, 'version'),
      ...(request.importStatuses?.length ? { importStatuses: request.importStatuses } : {}),
      ...(request.publishStatuses?.length ? { publishStatuses: request.publishStatuses } : {}),
    });
    return { pageInfo: pageInfo(request, { more: page.more, lastId: page.items.at(-1)?.versionId }), dataset, versions: page.items };
  }

  /**
   * Publishes (V1: releases) a version; from then on its content is read-only. Publishing a published version
   * again is a no-op. A version whose import is running cannot be published.
   */
  async publishVersion(caller: Caller, ref: VersionRef): Promise<VersionView> {
    const { dataset, version } = await this.getVersion(caller, ref);
    if (version.publishStatus === 'Published') return { dataset, version };
    try {
      const at = new Date(this.#now()).toISOString();
      const events = this.#events.record(versionEvent(version, 'Published', at));
      const published = await this.#store.updateVersion(
        caller.account,
        version.versionId,
        { publishStatus: 'Published', modifiedAt: at },
        { importStatus: ['Created', 'ImportFinished', 'ImportFailed'], publishStatus: ['Unpublished', 'PublishFailed', 'Published'] },
        {},
        events,
      );
      await this.#events.relay({ kind: 'version', account: caller.account, id: version.versionId }, events);
      return { dataset, version: published };
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      const now = await this.#mustGetVersion(caller, version.versionId);
      if (now.importStatus === 'Importing') {
        throw new PreconditionFailedError(`Version ${version.versionId} cannot be published while an import is running; wait until it has finished.`);
      }
      return { dataset, version: now };
    }
  }

  /**
   * Deletes one version: its metadata and everything stored under its storage path, ordered as for datasets
   * (tombstone, visible record; then in the background objects, lookups, tombstone). Returns how many versions its
   * dataset still has; with `dropEmptyDataset` (V1), a dataset left with none is deleted too.
   */
  async deleteVersion(caller: Caller, ref: VersionRef, options: { dropEmptyDataset?: boolean } = {}): Promise<{ datasetId: string; remaining: number }> {
    const account = caller.account;
    const versionId = await this.#versionIdOf(caller, ref);
    let tombstone = versionId ? await this.#store.getTombstone(account, versionId) : undefined;
    if (tombstone && !(await this.#store.getVersion(account, tombstone.id))) {
      // Already invisible (a repeat): answered as for any missing version, as V1 and V2 do.
      await this.#kickPurge(tombstone);
      throw versionNotFound(ref);
    }
    if (!tombstone) {
      const { version } = await this.#viewOf(caller, ref, versionId);
      tombstone = {
        account,
        id: version.versionId,
        kind: 'version',
        datasetId: version.datasetId,
        versions: [{ versionId: version.versionId, legacyId: version.legacyId, storage: version.storage }],
        createdAt: new Date(this.#now()).toISOString(),
      };
      await this.#store.putTombstone(tombstone, this.#events.record(versionEvent(version, 'Deleted', tombstone.createdAt)));
    }
    await this.#hide(tombstone);
    await this.#kickPurge(tombstone);
    const remaining = (await this.#store.allVersions(account, tombstone.datasetId)).filter((v) => v.versionId !== tombstone.id);
    if (remaining.length === 0 && options.dropEmptyDataset) {
      // V1 semantics: the group goes with its last version (a concurrent delete may have taken it already).
      await this.deleteDataset(caller, tombstone.datasetId).catch((error: unknown) => {
        if (!(error instanceof ResourceNotFoundError)) throw error;
      });
    }
    return { datasetId: tombstone.datasetId, remaining: remaining.length };
  }

  /** Local reset: deletes every dataset of every account (their objects included) and all other data but keys. */
  async resetAll(): Promise<void> {
    for (const account of await this.#store.listAccounts()) {
      const caller = { account };
      for (let page = await this.#store.listDatasets(account, { limit: 100, reverse: false }); page.items.length > 0; page = await this.#store.listDatasets(account, { limit: 100, reverse: false })) {
        for (const dataset of page.items) {
          await this.deleteDataset(caller, dataset.datasetId);
          await this.resumeDeletion({ account, id: dataset.datasetId });
        }
      }
      await this.#store.deleteAccountData(account);
    }
    if (await this.#objects.bucketExists(this.#settings.platformBucket)) {
      await this.#objects.deletePrefix(this.#settings.platformBucket, '');
    }
  }

  // ----- internals -------------------------------------------------------------------------------------------

  #newVersion(
    caller: Caller,
    datasetId: string,
    where: { bucket: string; dir: string; format: DataFormat },
    versionId: string,
    legacyId: number,
    description: string,
    at: string,
  ): Omit<VersionRecord, 'versionNumber'> {
    return {
      account: caller.account,
      versionId,
      datasetId,
      legacyId,
      description,
      storage: versionStorage(where.bucket, where.dir, versionId, where.format),
      importStatus: 'Created',
      publishStatus: 'Unpublished',
      exportStatus: 'None',
      sampleCount: 0,
      characterCount: 0,
      sizeBytes: 0,
      createdAt: at,
      modifiedAt: at,
    };
  }

  async #mustGetVersion(caller: Caller, versionId: string): Promise<VersionRecord> {
    const version = await this.#store.getVersion(caller.account, versionId);
    if (!version) throw versionNotFound(versionId);
    return version;
  }

  /** `ds-` ids as they are; legacy integers (number or digit string) through their lookup entry. */
  async #versionIdOf(caller: Caller, ref: VersionRef): Promise<string | undefined> {
    if (typeof ref === 'number' || /^\d{1,15}$/.test(ref)) {
      return this.#store.versionIdOfLegacy(caller.account, Number(ref));
    }
    return isId('version', ref) ? ref : undefined;
  }

  /**
   * The request's part of a deletion, idempotent: removes the visible records a tombstone lists (the dataset's item
   * and its versions', or the one version's), so that no read finds them again. The items of many versions are
   * removed a few at a time.
   */
  async #hide(tombstone: Tombstone): Promise<void> {
    const { account } = tombstone;
    if (tombstone.kind === 'dataset') await this.#deleteItem({ kind: 'dataset', account, id: tombstone.datasetId }, () => this.#store.deleteDatasetItem(account, tombstone.datasetId));
    for (let i = 0; i < tombstone.versions.length; i += HIDE_PARALLEL) {
      await Promise.all(
        tombstone.versions.slice(i, i + HIDE_PARALLEL).map((v) => this.#deleteItem({ kind: 'version', account, id: v.versionId }, () => this.#store.deleteVersionItem(account, v.versionId))),
      );
    }
  }

  /** Asks for the purge to run now; if the ask is lost, the scheduled run finds the tombstone anyway. */
  async #kickPurge(tombstone: Tombstone): Promise<void> {
    await this.#kick().catch((error: unknown) => {
      log.warn('could not kick the purge of a deletion; the scheduled run will do it', { account: tombstone.account, id: tombstone.id, ...describeCause(error) });
    });
  }

  /**
   * The background part of deletions: finishes the tombstones, oldest first, while the budget lasts. A deletion
   * that does not fit goes on from its checkpoint in the next run; one that fails does not stop the others.
   */
  async purgeDeletions(budget: PurgeBudget, limit = 100): Promise<{ finished: number; pending: number; failed: number }> {
    const result = { finished: 0, pending: 0, failed: 0 };
    for (const ref of await this.#store.listTombstones(limit)) {
      if (budget.remainingMs() < PURGE_RESERVE_MS) {
        result.pending++;
        continue;
      }
      try {
        const tombstone = await this.#store.getTombstone(ref.account, ref.id);
        if (!tombstone) continue;
        if (await this.#purge(tombstone, budget)) result.finished++;
        else result.pending++;
      } catch (error) {
        result.failed++;
        log.warn('a deletion could not be purged now; the next run tries again', { ...ref, ...describeCause(error) });
      }
    }
    return result;
  }

  /**
   * Finishes a deletion whatever the time it takes (the local reset; the outbox sweep's hook for tombstones written
   * before tombstones were indexed as deletions). Throws if it cannot.
   */
  async resumeDeletion(item: Pick<OutboxItem, 'account' | 'id'>): Promise<void> {
    const tombstone = await this.#store.getTombstone(item.account, item.id);
    if (tombstone) await this.#purge(tombstone);
  }

  /**
   * Removes what a tombstone lists, each step idempotent, the tombstone last: per version its item (again: the
   * request may have died before), its sample edits, its objects (in steps of `purgeBatch`, looking at the budget
   * between two) and its legacy-id lookup. A dataset's tombstone is the checkpoint: each version purged leaves its
   * list. Deleting a single version removes its lookup together with the tombstone (one request), so a repeat by
   * legacy id finds the tombstone until the very end. Returns false if the budget ran out first.
   */
  async #purge(tombstone: Tombstone, budget?: PurgeBudget): Promise<boolean> {
    const { account } = tombstone;
    const single = tombstone.kind === 'version';
    // A request that died before hiding left the dataset visible; each version's item goes in #purgeVersion.
    if (!single) await this.#deleteItem({ kind: 'dataset', account, id: tombstone.datasetId }, () => this.#store.deleteDatasetItem(account, tombstone.datasetId));
    let left = tombstone.versions;
    while (left.length > 0) {
      if (!(await this.#purgeVersion(tombstone, left[0]!, budget))) return false;
      left = left.slice(1);
      if (!single) await this.#store.updateTombstoneVersions(account, tombstone.id, left);
    }
    if (!single) {
      // Versions created in the instant before the dataset item went (the index is eventually consistent).
      for (const straggler of await this.#store.allVersions(account, tombstone.datasetId)) {
        if (!(await this.#purgeVersion(tombstone, straggler, budget))) return false;
      }
    }
    // The deletion is done: tell it, then remove the tombstone (which acknowledges its events). If they cannot be
    // published now, the tombstone stays and the next purge publishes them and removes it.
    if (this.#events.enabled) {
      try {
        await this.#events.publish(await this.#store.getOutbox({ kind: 'tombstone', account, id: tombstone.id }));
      } catch (error) {
        log.warn('deletion done, its event not published yet; the next purge will publish it', { account, id: tombstone.id, ...describeCause(error) });
        return false;
      }
    }
    await this.#store.deleteTombstone(account, tombstone.id, single ? tombstone.versions.map((v) => v.legacyId) : []);
    return true;
  }

  /** Purges one version of a tombstone; false if the budget ran out before its objects were all gone. */
  async #purgeVersion(tombstone: Tombstone, v: Tombstone['versions'][number], budget?: PurgeBudget): Promise<boolean> {
    const { account } = tombstone;
    await this.#deleteItem({ kind: 'version', account, id: v.versionId }, () => this.#store.deleteVersionItem(account, v.versionId));
    const edits = await this.#store.listSampleEdits(account, v.versionId);
    await this.#store.deleteSampleEdits(account, v.versionId, edits.map((e) => e.sampleId));
    const directory = versionDirectory(v.storage);
    const step = this.#settings.purgeBatch ?? 1000;
    for (;;) {
      if (budget && budget.remainingMs() < PURGE_RESERVE_MS) return false;
      const deleted = await this.#objects.deletePrefix(directory.bucket, directory.prefix, { limit: step }).catch((error: unknown) => {
        // The user's bucket may be gone: then so are the objects.
        if (error instanceof NoSuchBucketError || (error as Error).name === 'NoSuchBucketError') return 0;
        throw error;
      });
      if (deleted < step) break;
    }
    if (tombstone.kind === 'dataset') await this.#store.deleteLegacyLookup(account, v.legacyId);
    return true;
  }

  /**
   * Deletes an item, publishing first the events it still holds (a transition whose writer died before it could
   * publish): the store refuses to delete an item with unpublished events, which would be lost with it.
   */
  async #deleteItem(item: OutboxItem, remove: () => Promise<void>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await remove();
      } catch (error) {
        if (!(error instanceof ConditionFailedError) || attempt >= 3) throw error;
        await this.#events.flush(item);
      }
    }
  }
}

/** How many version items a deletion removes at once. */
const HIDE_PARALLEL = 8;

function datasetNotFound(datasetId: string): ResourceNotFoundError {
  return notFound('dataset', datasetId);
}

function versionNotFound(ref: VersionRef): ResourceNotFoundError {
  return notFound('dataset version', ref);
}

function rethrowCondition(make: () => Error) {
  return (error: unknown): never => {
    throw error instanceof ConditionFailedError ? make() : error;
  };
}
