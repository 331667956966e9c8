/**
 * The metadata port: what the domain (`shared/datasets`) needs from a metadata store. One adapter today
 * (DynamoDB, `./dynamo.ts`, run against dynalite locally and in tests). Every method that touches account data takes
 * the account, and every key the adapter builds starts with it: no read or list can cross accounts.
 */

/** The V2 data formats (spec §3.1). */
export const DATA_FORMATS = [
  'PromptResponse',
  'Role',
  'SFT_FIM',
  'Text',
  'DPO_PromptChosenRejected',
  'KTO_PromptChosenRejected',
  'PromptSortedresponses',
  'Prompt',
  'PromptImage',
  'PromptImageResponse',
] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

/** Canonical storage types (V2 names; V1 `sysBos` / `usrBos` map onto them). */
export type StorageType = 'sysStorage' | 'BOS';

/** V2 status vocabularies (spec §2); the V1 views map them onto the integer statuses of spec §3.3. */
export type ImportStatus = 'Created' | 'Importing' | 'ImportFinished' | 'ImportFailed';
export type PublishStatus = 'Unpublished' | 'Publishing' | 'Published' | 'PublishFailed';
export type ExportStatus = 'None' | 'Exporting' | 'ExportFinished' | 'ExportFailed';

export interface AccessKeyRecord {
  accessKeyId: string;
  account: string;
  secretAccessKey: string;
  enabled: boolean;
  createdAt: string;
}

/** Where a version's data lives: a bucket and a key prefix ending in `/`. */
export interface StorageLocation {
  bucket: string;
  prefix: string;
}

export interface DatasetRecord {
  account: string;
  /** `dg-…` */
  datasetId: string;
  /** Legacy integer id (V1 `groupId`). */
  legacyId: number;
  name: string;
  dataFormat: DataFormat;
  storageType: StorageType;
  /** The user's bucket and directory for `BOS` storage (`rawStoragePath`, `/dir/`); the platform bucket otherwise. */
  storageBucket: string;
  storageDir: string;
  /** V1 fields, kept as given when created through V1, derived otherwise. */
  projectType: number;
  templateType: number;
  dataType: number;
  /** Highest version number handed out so far; never decreases, so numbers never repeat. */
  lastVersionNumber: number;
  createdAt: string;
  modifiedAt: string;
}

export interface VersionRecord {
  account: string;
  /** `ds-…` */
  versionId: string;
  /** `dg-…` of the dataset it belongs to. */
  datasetId: string;
  /** Legacy integer id (V1 `id`). */
  legacyId: number;
  versionNumber: number;
  description: string;
  storage: StorageLocation;
  importStatus: ImportStatus;
  publishStatus: PublishStatus;
  exportStatus: ExportStatus;
  /** Counters of what is stored for the version (samples, characters, bytes). */
  sampleCount: number;
  characterCount: number;
  sizeBytes: number;
  createdAt: string;
  modifiedAt: string;
}

export interface DatasetListQuery {
  /** Exclusive: the page starts after this dataset id. */
  after?: string;
  limit: number;
  reverse: boolean;
  /** Only datasets of one of these formats. */
  formats?: readonly DataFormat[];
  /** Only datasets whose name contains this (case-insensitive). */
  nameContains?: string;
}

export interface DatasetPage {
  items: DatasetRecord[];
  /** True when more items follow the last one returned. */
  more: boolean;
}

export interface NewDataset {
  dataset: Omit<DatasetRecord, 'lastVersionNumber'>;
  firstVersion: Omit<VersionRecord, 'versionNumber'>;
}

export interface MetadataStore {
  getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  /** Creates or replaces an access key. */
  putAccessKey(record: AccessKeyRecord): Promise<void>;

  /** Hands out `count` consecutive legacy integer ids, unique across the whole deployment; returns the first. */
  allocateLegacyIds(count: number): Promise<number>;

  /**
   * Stores a new dataset together with its version 1. The version (and its lookup entries) are written first and
   * the dataset last, so a crash in between leaves nothing visible: a version whose dataset does not exist is
   * treated as absent by every read.
   */
  createDataset(input: NewDataset): Promise<{ dataset: DatasetRecord; firstVersion: VersionRecord }>;

  getDataset(account: string, datasetId: string): Promise<DatasetRecord | undefined>;
  listDatasets(account: string, query: DatasetListQuery): Promise<DatasetPage>;

  /** Deletes every item of one account (local reset, tests). */
  deleteAccountData?(account: string): Promise<void>;
}
