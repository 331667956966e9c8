/**
 * The dataset service: what the functions call. It owns the rules of the model (ids, storage layout, versions) and
 * talks to the metadata and object ports; it knows nothing of HTTP, envelopes or AWS types. A later backend (an
 * upstream Qianfan) can stand behind the same methods without the functions noticing.
 */
import { InappropriateJSONError } from '../errors.js';
import type { ObjectStore } from '../objects/index.js';
import type { DatasetRecord, MetadataStore, StorageType, VersionRecord, DataFormat } from '../store/index.js';
import { isMultimodal } from './formats.js';
import { newId } from './ids.js';
import { pageInfo, pageQuery, type PageInfo, type PageRequest } from './pagination.js';

export interface DatasetSettings {
  /** The bucket playing Qianfan's platform storage. */
  platformBucket: string;
}

export interface Caller {
  account: string;
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

export interface Deps {
  store: MetadataStore;
  objects: ObjectStore;
  settings: DatasetSettings;
  now?: () => Date;
}

export class DatasetService {
  readonly #store: MetadataStore;
  readonly #objects: ObjectStore;
  readonly #settings: DatasetSettings;
  readonly #now: () => Date;

  constructor(deps: Deps) {
    this.#store = deps.store;
    this.#objects = deps.objects;
    this.#settings = deps.settings;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Creates a dataset with its first (empty) version. */
  async createDataset(caller: Caller, input: NewDatasetInput): Promise<{ dataset: DatasetRecord; version: VersionRecord }> {
    const bucket = input.storageType === 'BOS' ? input.bucket ?? '' : this.#settings.platformBucket;
    const dir = input.storageType === 'BOS' ? input.dir ?? '/' : '/';
    if (input.storageType === 'BOS' && !(await this.#objects.bucketExists(bucket))) {
      throw new InappropriateJSONError(`The bucket "${bucket}" does not exist or is not reachable by qfdata.`);
    }
    const legacy = await this.#store.allocateLegacyIds(2);
    const datasetId = newId('dataset');
    const versionId = newId('version');
    const now = this.#now().toISOString();
    const { dataset, firstVersion } = await this.#store.createDataset({
      dataset: {
        account: caller.account,
        datasetId,
        legacyId: legacy,
        name: input.name,
        dataFormat: input.dataFormat,
        storageType: input.storageType,
        storageBucket: bucket,
        storageDir: dir,
        projectType: input.projectType,
        templateType: input.templateType,
        dataType: input.dataType,
        createdAt: now,
        modifiedAt: now,
      },
      firstVersion: {
        account: caller.account,
        versionId,
        datasetId,
        legacyId: legacy + 1,
        description: '',
        storage: versionStorage(bucket, dir, versionId, input.dataFormat),
        importStatus: 'Created',
        publishStatus: 'Unpublished',
        exportStatus: 'None',
        sampleCount: 0,
        characterCount: 0,
        sizeBytes: 0,
        createdAt: now,
        modifiedAt: now,
      },
    });
    return { dataset, version: firstVersion };
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
}

/**
 * Where a version's data lives, as Qianfan lays it out: `<dir>_system_/dataset/<ds-id>/texts/` (or `images/`) in the
 * dataset's bucket. `storageInfo.storagePath` on the wire is `/<bucket>/<that prefix without the trailing slash>`.
 */
export function versionStorage(bucket: string, dir: string, versionId: string, format: DataFormat): { bucket: string; prefix: string } {
  const base = dir.replace(/^\/+/, '');
  return { bucket, prefix: `${base}_system_/dataset/${versionId}/${isMultimodal(format) ? 'images' : 'texts'}/` };
}

export function storagePathOf(location: { bucket: string; prefix: string }): string {
  return `/${location.bucket}/${location.prefix.replace(/\/$/, '')}`;
}
