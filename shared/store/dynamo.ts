/**
 * DynamoDB adapter of the metadata port. The same code talks to DynamoDB in the cloud and to dynalite locally and
 * in tests. dynalite has no transactions, so every state change is one conditional write on one item, and changes
 * that span items are ordered children first, visible record last (see `./table.ts` for the layout).
 */
import {
  BatchWriteCommand,
  ConditionalCheckFailedException,
  DeleteCommand,
  DocumentClient as DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandInput,
} from './document-client.js';
import { GSI1, GSI2 } from './table.js';
import type {
  AccessKeyRecord,
  AccountBucket,
  BucketGrant,
  BucketRecord,
  DatasetRecord,
  ExportTaskRecord,
  ImportRuleRecord,
  ImportTaskRecord,
  OutboxEvent,
  PendingEdit,
  SampleEdit,
  ScheduleRecord,
  TaskKind,
  Tombstone,
  TokenRecord,
  VersionRecord,
} from '../model.js';
import {
  ConditionFailedError,
  type AccessKeyChanges,
  type DatasetListQuery,
  type DatasetPage,
  type Expectation,
  type ImportProgress,
  type MetadataStore,
  type NewDataset,
  type OutboxEntry,
  type OutboxItem,
  type ScheduleAdvance,
  type ScheduleListQuery,
  type SchedulePage,
  type VersionChanges,
  type VersionCounters,
  type VersionExpectation,
  type VersionListQuery,
  type VersionPage,
} from './port.js';

export interface DynamoStoreOptions {
  tableName: string;
  region: string;
  /** Set for dynalite (locally and in tests); unset in the cloud. */
  endpoint?: string;
}

type Item = Record<string, unknown>;

/** Attributes of the table's layout, never part of a record (the outbox's events are handed out by its own methods). */
const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK', 'outbox', 'nameLower', 'role'] as const;

const keys = {
  accessKey: (ak: string) => ({ PK: `K#${ak}`, SK: 'K' }),
  /** An account's access keys, by creation time. */
  accessKeysOf: (account: string) => `A#${account}#K`,
  legacyCounter: () => ({ PK: 'C#legacy', SK: 'C' }),
  /** A bucket's owner and grants share the bucket's partition; the index lists an account's buckets. */
  bucket: (bucket: string) => `B#${bucket}`,
  bucketOwner: (bucket: string) => ({ PK: `B#${bucket}`, SK: 'OWNER' }),
  bucketGrant: (bucket: string, account: string) => ({ PK: `B#${bucket}`, SK: `G#${account}` }),
  bucketsOf: (account: string) => `A#${account}#B`,
  account: (account: string) => `A#${account}`,
  dataset: (account: string, datasetId: string) => ({ PK: `A#${account}`, SK: `D#${datasetId}` }),
  version: (account: string, versionId: string) => ({ PK: `A#${account}`, SK: `V#${versionId}` }),
  legacy: (account: string, legacyId: number) => ({ PK: `A#${account}`, SK: `L#${legacyId}` }),
  tombstone: (account: string, id: string) => ({ PK: `A#${account}`, SK: `X#${id}` }),
  token: (account: string, scope: string) => ({ PK: `A#${account}`, SK: `T#${scope}` }),
  importTask: (account: string, taskId: string) => ({ PK: `A#${account}`, SK: `I#${taskId}` }),
  /** Sparse index of unfinished import tasks, across accounts: what the sweep restarts. */
  openImports: 'OPEN#import',
  exportTask: (account: string, taskId: string) => ({ PK: `A#${account}`, SK: `E#${taskId}` }),
  /** A version's export records, in creation order: `R#<version>#<task>` points at the task. */
  exportRecord: (account: string, versionId: string, taskId: string) => ({ PK: `A#${account}`, SK: `R#${versionId}#${taskId}` }),
  openExports: 'OPEN#export',
  schedule: (account: string, scheduleId: string) => ({ PK: `A#${account}`, SK: `S#${scheduleId}` }),
  /** A version's sample edits, in sample-id order (task, shard, line): `M#<version>#<sample>`. */
  sampleEdit: (account: string, versionId: string, sampleId: string) => ({ PK: `A#${account}`, SK: `M#${versionId}#${sampleId}` }),
  sampleEditsOf: (versionId: string) => `M#${versionId}#`,
  /** Sparse index of Active schedules, across accounts, by next due time: what the runner starts. */
  dueSchedules: 'DUE#schedule',
  dueSort: (nextRunAt: string, account: string, scheduleId: string) => `${nextRunAt}#${account}#${scheduleId}`,
  byFormat: (account: string, format: string) => `A#${account}#F#${format}`,
  byDataset: (account: string, datasetId: string) => `A#${account}#D#${datasetId}`,
  /** An account's import rules: `U#<rule-id>`; every rule is also in one index partition, by bucket and prefix. */
  importRule: (account: string, ruleId: string) => ({ PK: `A#${account}`, SK: `U#${ruleId}` }),
  rules: 'RULES',
  ruleSort: (bucket: string, prefix: string, account: string, ruleId: string) => `${bucket}#${prefix}#${account}#${ruleId}`,
  /** Sparse index (GSI2) of the items holding events not published yet, across accounts: what the sweep re-drives. */
  outbox: 'OUTBOX',
  /** The same index's partition of tombstones (deletions not finished), across accounts, by creation time. */
  deletions: 'DELETIONS',
};

/** The sort-key prefix of each kind of item that may hold an outbox, and back. */
const OUTBOX_KINDS = { dataset: 'D#', version: 'V#', importTask: 'I#', exportTask: 'E#', schedule: 'S#', tombstone: 'X#' } as const satisfies Record<OutboxItem['kind'], string>;

function outboxKey(item: OutboxItem): { PK: string; SK: string } {
  return { PK: keys.account(item.account), SK: `${OUTBOX_KINDS[item.kind]}${item.id}` };
}

function outboxItemOf(key: Item): OutboxItem | undefined {
  const pk = String(key.PK);
  const sk = String(key.SK);
  const kind = (Object.keys(OUTBOX_KINDS) as OutboxItem['kind'][]).find((k) => sk.startsWith(OUTBOX_KINDS[k]));
  return kind && pk.startsWith('A#') ? { kind, account: pk.slice(2), id: sk.slice(OUTBOX_KINDS[kind].length) } : undefined;
}

/** The attributes a new item (PutItem) carries with its first events. */
function outboxAttributes(events: readonly OutboxEvent[] | undefined): Item {
  return events && events.length > 0 ? { outbox: [...events], GSI2PK: keys.outbox, GSI2SK: events[0]!.time } : {};
}

/** A version allows sample edits while no import runs and it is not published or being published. */
const EDITABLE = {
  conditions: ['#importStatus <> :importing', '#publishStatus IN (:unpublished, :publishFailed)'],
  names: { '#importStatus': 'importStatus', '#publishStatus': 'publishStatus' },
  values: { ':importing': 'Importing', ':unpublished': 'Unpublished', ':publishFailed': 'PublishFailed' },
};

/** Query page size when a filter may drop items: large enough to fill a page in few round trips. */
const FILTERED_BATCH = 100;

/** A FilterExpression with its values, applied while collecting a page. */
interface Filter {
  expression: string;
  values: Record<string, unknown>;
  names?: Record<string, string>;
}

/** `#attr IN (:p0, :p1, …)` for a list of allowed values. */
function inFilter(attribute: string, allowed: readonly string[], tag: string): Filter {
  const values = Object.fromEntries(allowed.map((v, i) => [`:${tag}${i}`, v]));
  return { expression: `#${tag} IN (${Object.keys(values).join(', ')})`, values, names: { [`#${tag}`]: attribute } };
}

function andFilters(filters: (Filter | undefined)[]): Filter | undefined {
  const present = filters.filter((f): f is Filter => f !== undefined);
  if (present.length === 0) return undefined;
  return {
    expression: present.map((f) => `(${f.expression})`).join(' AND '),
    values: Object.assign({}, ...present.map((f) => f.values)),
    names: Object.assign({}, ...present.map((f) => f.names ?? {})),
  };
}

/** The parts of one UpdateItem: attributes to set, counters to add to, and what the item must look like. */
interface UpdateParts {
  /** Attributes to set; an `undefined` value is skipped. */
  set?: Record<string, unknown>;
  add?: Record<string, number>;
  /** Attributes to remove. */
  remove?: readonly string[];
  /** What each attribute must be (see the port's `Expectation`). */
  expect?: Record<string, Expectation | undefined>;
  /** Conditions written out (with names and values of their own in `names` / `values`). */
  conditions?: string[];
  names?: Record<string, string>;
  values?: Record<string, unknown>;
  /** Events recorded with the change: appended to the item's outbox in the same write (see `./table.ts`, GSI2). */
  events?: readonly OutboxEvent[];
}

/** Builds an UpdateItem's expressions, names and values from {@link UpdateParts}: the one builder of the adapter. */
function updateExpression(parts: UpdateParts) {
  const names: Record<string, string> = { ...parts.names };
  const values: Record<string, unknown> = { ...parts.values };
  let n = 0;
  let m = 0;
  const name = (attribute: string) => {
    const tag = `#a${m++}`;
    names[tag] = attribute;
    return tag;
  };
  const value = (v: unknown) => {
    const tag = `:v${n++}`;
    values[tag] = v;
    return tag;
  };
  const sets = Object.entries(parts.set ?? {})
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${name(k)} = ${value(v)}`);
  if (parts.events && parts.events.length > 0) {
    const outbox = name('outbox');
    const since = name('GSI2SK');
    sets.push(
      `${outbox} = list_append(if_not_exists(${outbox}, ${value([])}), ${value([...parts.events])})`,
      `${name('GSI2PK')} = ${value(keys.outbox)}`,
      `${since} = if_not_exists(${since}, ${value(parts.events[0]!.time)})`,
    );
  }
  const adds = Object.entries(parts.add ?? {}).map(([k, v]) => `${name(k)} ${value(v)}`);
  const removes = (parts.remove ?? []).map((k) => name(k));
  const conditions = [...(parts.conditions ?? [])];
  for (const [attribute, allowed] of Object.entries(parts.expect ?? {})) {
    if (!allowed) continue;
    const tag = name(attribute);
    const options =
      'below' in allowed
        ? [`attribute_not_exists(${tag})`, `${tag} < ${value(allowed.below)}`]
        : allowed.map((v) => (v === null ? `attribute_not_exists(${tag})` : `${tag} = ${value(v)}`));
    conditions.push(`(${options.join(' OR ')})`);
  }
  return {
    UpdateExpression: [sets.length ? `SET ${sets.join(', ')}` : '', adds.length ? `ADD ${adds.join(', ')}` : '', removes.length ? `REMOVE ${removes.join(', ')}` : '']
      .filter(Boolean)
      .join(' '),
    ...(conditions.length ? { ConditionExpression: conditions.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

/** Runs a conditional write, turning DynamoDB's condition failure into the port's. */
async function conditional<T>(write: Promise<T>, message: string): Promise<T> {
  try {
    return await write;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') {
      throw new ConditionFailedError(message, { cause: error });
    }
    throw error;
  }
}

export function createDocumentClient(options: Omit<DynamoStoreOptions, 'tableName'>): DynamoDBDocumentClient {
  return new DynamoDBDocumentClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
    marshallOptions: { removeUndefinedValues: true },
  });
}

function strip<T>(item: Item): T {
  const copy: Item = { ...item };
  for (const k of KEY_ATTRIBUTES) delete copy[k];
  return copy as T;
}

export class DynamoMetadataStore implements MetadataStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoStoreOptions, db: DynamoDBDocumentClient = createDocumentClient(options)) {
    this.#db = db;
    this.#table = options.tableName;
  }

  async getAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    return this.#get<AccessKeyRecord>(keys.accessKey(accessKeyId));
  }

  async putAccessKey(record: AccessKeyRecord): Promise<void> {
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: this.#accessKeyItem(record) }));
  }

  async createAccessKey(record: AccessKeyRecord): Promise<void> {
    await conditional(this.#putNew(this.#accessKeyItem(record)), `access key ${record.accessKeyId} already exists`);
  }

  async listAccessKeys(account: string): Promise<AccessKeyRecord[]> {
    const items = await this.#all({ IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': keys.accessKeysOf(account) } });
    return items.map((i) => strip<AccessKeyRecord>(i));
  }

  async updateAccessKey(account: string, accessKeyId: string, changes: AccessKeyChanges, expectEnabled?: boolean): Promise<AccessKeyRecord> {
    const enabled = expectEnabled === undefined ? '' : ' AND #enabled = :expectEnabled';
    const out = await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.accessKey(accessKeyId),
          ...updateExpression({
            set: changes,
            conditions: [`attribute_exists(PK) AND #account = :account${enabled}`],
            names: { '#account': 'account', ...(enabled ? { '#enabled': 'enabled' } : {}) },
            values: { ':account': account, ...(enabled ? { ':expectEnabled': expectEnabled } : {}) },
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
      `access key ${accessKeyId} of account ${account} is missing or in another state`,
    );
    return strip<AccessKeyRecord>(out.Attributes as Item);
  }

  async deleteAccessKey(account: string, accessKeyId: string): Promise<void> {
    await conditional(
      this.#db.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: keys.accessKey(accessKeyId),
          ConditionExpression: 'attribute_exists(PK) AND #account = :account AND #enabled = :false',
          ExpressionAttributeNames: { '#account': 'account', '#enabled': 'enabled' },
          ExpressionAttributeValues: { ':account': account, ':false': false },
        }),
      ),
      `access key ${accessKeyId} is not a disabled key of account ${account}`,
    );
  }

  #accessKeyItem(record: AccessKeyRecord): Item {
    return { ...keys.accessKey(record.accessKeyId), GSI1PK: keys.accessKeysOf(record.account), GSI1SK: `${record.createdAt}#${record.accessKeyId}`, ...record };
  }

  async getBucketAccess(bucket: string): Promise<{ owner?: BucketRecord; grants: BucketGrant[] }> {
    const items = await this.#all({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': keys.bucket(bucket) }, ConsistentRead: true });
    const owner = items.find((i) => i.SK === 'OWNER');
    return {
      ...(owner ? { owner: strip<BucketRecord>(owner) } : {}),
      grants: items.filter((i) => String(i.SK).startsWith('G#')).map((i) => strip<BucketGrant>(i)),
    };
  }

  async putBucketOwner(record: BucketRecord): Promise<void> {
    const item = { ...keys.bucketOwner(record.bucket), GSI1PK: keys.bucketsOf(record.owner), GSI1SK: record.bucket, role: 'owner', ...record };
    await conditional(this.#putNew(item), `bucket ${record.bucket} has an owner already`);
  }

  async putBucketGrant(grant: BucketGrant): Promise<void> {
    const item = { ...keys.bucketGrant(grant.bucket, grant.account), GSI1PK: keys.bucketsOf(grant.account), GSI1SK: grant.bucket, role: 'grantee', ...grant };
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: item }));
  }

  async deleteBucketGrant(bucket: string, account: string): Promise<boolean> {
    const out = await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: keys.bucketGrant(bucket, account), ReturnValues: 'ALL_OLD' }));
    return out.Attributes !== undefined;
  }

  async listAccountBuckets(account: string): Promise<AccountBucket[]> {
    const items = await this.#all({ IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': keys.bucketsOf(account) } });
    return items.map((i) => ({ bucket: String(i.bucket), role: i.role === 'owner' ? 'owner' : 'grantee' }));
  }

  async allocateLegacyIds(count: number): Promise<number> {
    const out = await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: keys.legacyCounter(),
        UpdateExpression: 'ADD #n :count',
        ExpressionAttributeNames: { '#n': 'n' },
        ExpressionAttributeValues: { ':count': count },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const last = Number(out.Attributes?.n);
    return last - count + 1;
  }

  async createDataset(input: NewDataset, events?: readonly OutboxEvent[]): Promise<{ dataset: DatasetRecord; firstVersion: VersionRecord }> {
    const dataset: DatasetRecord = { ...input.dataset, lastVersionNumber: 1 };
    const firstVersion: VersionRecord = { ...input.firstVersion, versionNumber: 1 };
    // Children first: the version and its legacy-id lookup are invisible until the dataset item exists. They are
    // plain puts of fresh ids, so a retry with the same records (clientToken) rewrites them harmlessly.
    await this.putVersion(firstVersion);
    await conditional(this.#putNew({ ...this.#datasetItem(dataset), ...outboxAttributes(events) }), `dataset ${dataset.datasetId} already exists`);
    return { dataset, firstVersion };
  }

  async getDataset(account: string, datasetId: string): Promise<DatasetRecord | undefined> {
    return this.#get<DatasetRecord>(keys.dataset(account, datasetId));
  }

  async listDatasets(account: string, query: DatasetListQuery): Promise<DatasetPage> {
    const want = query.limit + 1;
    const nameFilter: Filter | undefined = query.nameContains
      ? { expression: 'contains(nameLower, :name)', values: { ':name': query.nameContains.toLowerCase() } }
      : undefined;
    let items: Item[];
    if (query.formats && query.formats.length > 0) {
      // One index query per format, each bounded by the page size, merged by id: O(page × formats), whatever
      // the number of datasets.
      const formats = [...new Set(query.formats)];
      const perFormat = await Promise.all(
        formats.map((format) => {
          const pk = keys.byFormat(account, format);
          return this.#collect(
            {
              IndexName: GSI1,
              KeyConditionExpression: 'GSI1PK = :pk',
              ExpressionAttributeValues: { ':pk': pk },
              ...(query.after
                ? { ExclusiveStartKey: { GSI1PK: pk, GSI1SK: query.after, ...keys.dataset(account, query.after) } }
                : {}),
            },
            want,
            query.reverse,
            nameFilter,
          );
        }),
      );
      const direction = query.reverse ? -1 : 1;
      items = perFormat
        .flat()
        .sort((a, b) => direction * compare(String(a.datasetId), String(b.datasetId)))
        .slice(0, want);
    } else {
      items = await this.#collect(
        {
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': keys.account(account), ':prefix': 'D#' },
          ...(query.after ? { ExclusiveStartKey: keys.dataset(account, query.after) } : {}),
        },
        want,
        query.reverse,
        nameFilter,
      );
    }
    return this.#page<DatasetRecord>(items, query.limit);
  }

  async nextVersionNumber(account: string, datasetId: string, now: string): Promise<number> {
    const out = await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.dataset(account, datasetId),
          UpdateExpression: 'SET lastVersionNumber = lastVersionNumber + :one, modifiedAt = :now',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':one': 1, ':now': now },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
      `dataset ${datasetId} does not exist`,
    );
    return Number(out.Attributes?.lastVersionNumber);
  }

  async putVersion(version: VersionRecord, events?: readonly OutboxEvent[]): Promise<void> {
    const { account } = version;
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: { ...keys.legacy(account, version.legacyId), versionId: version.versionId } }));
    await this.#db.send(
      new PutCommand({ TableName: this.#table, Item: { ...keys.version(account, version.versionId), ...this.#versionIndex(version), ...version, ...outboxAttributes(events) } }),
    );
  }

  async getVersion(account: string, versionId: string): Promise<VersionRecord | undefined> {
    return this.#get<VersionRecord>(keys.version(account, versionId));
  }

  async versionIdOfLegacy(account: string, legacyId: number): Promise<string | undefined> {
    const lookup = await this.#get<{ versionId?: unknown }>(keys.legacy(account, legacyId));
    return typeof lookup?.versionId === 'string' ? lookup.versionId : undefined;
  }

  async listVersions(account: string, datasetId: string, query: VersionListQuery): Promise<VersionPage> {
    const pk = keys.byDataset(account, datasetId);
    const filter = andFilters([
      query.importStatuses && query.importStatuses.length > 0 ? inFilter('importStatus', query.importStatuses, 'is') : undefined,
      query.publishStatuses && query.publishStatuses.length > 0 ? inFilter('publishStatus', query.publishStatuses, 'ps') : undefined,
    ]);
    const items = await this.#collect(
      {
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ...(query.after ? { ExclusiveStartKey: { GSI1PK: pk, GSI1SK: query.after, ...keys.version(account, query.after) } } : {}),
      },
      query.limit + 1,
      query.reverse,
      filter,
    );
    return this.#page<VersionRecord>(items, query.limit);
  }

  async allVersions(account: string, datasetId: string): Promise<VersionRecord[]> {
    const items = await this.#all({ IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': keys.byDataset(account, datasetId) } });
    return items.map((i) => strip<VersionRecord>(i));
  }

  async updateVersion(
    account: string,
    versionId: string,
    changes: VersionChanges,
    expect: VersionExpectation = {},
    add: VersionCounters = {},
    events?: readonly OutboxEvent[],
  ): Promise<VersionRecord> {
    const out = await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.version(account, versionId),
          ...updateExpression({ set: changes, add, expect, conditions: ['attribute_exists(PK)'], ...(events ? { events } : {}) }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
      `version ${versionId} is missing or not in the expected state`,
    );
    return strip<VersionRecord>(out.Attributes ?? {});
  }

  async putImportTask(task: ImportTaskRecord, events?: readonly OutboxEvent[]): Promise<void> {
    await conditional(
      this.#putNew({ ...keys.importTask(task.account, task.taskId), GSI1PK: keys.openImports, GSI1SK: `${task.account}#${task.taskId}`, ...task, ...outboxAttributes(events) }),
      `import task ${task.taskId} already exists`,
    );
  }

  async getImportTask(account: string, taskId: string): Promise<ImportTaskRecord | undefined> {
    return this.#get<ImportTaskRecord>(keys.importTask(account, taskId));
  }

  async deleteImportTask(account: string, taskId: string): Promise<void> {
    await this.#delete(keys.importTask(account, taskId));
  }

  async claimImportTask(account: string, taskId: string, now: number, leaseMs: number): Promise<ImportTaskRecord | undefined> {
    return this.#claim<ImportTaskRecord>(keys.importTask(account, taskId), now, leaseMs);
  }

  /**
   * Takes a task's lease: one conditional write that requires the task to be open with no unexpired lease, moves
   * it to Running, sets the lease and increments the fencing token.
   */
  async #claim<T>(key: Item, now: number, leaseMs: number): Promise<T | undefined> {
    try {
      const out = await conditional(
        this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: key,
            UpdateExpression: 'SET #status = :running, leaseUntil = :until, fence = fence + :one, startedAt = if_not_exists(startedAt, :iso)',
            ConditionExpression: 'attribute_exists(PK) AND #status IN (:pending, :running) AND leaseUntil < :now',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':running': 'Running',
              ':pending': 'Pending',
              ':until': now + leaseMs,
              ':one': 1,
              ':now': now,
              ':iso': new Date(now).toISOString(),
            },
            ReturnValues: 'ALL_NEW',
          }),
        ),
        'task not claimable',
      );
      return strip<T>(out.Attributes ?? {});
    } catch (error) {
      if (error instanceof ConditionFailedError) return undefined;
      throw error;
    }
  }

  async renewTaskLease(kind: TaskKind, account: string, taskId: string, fence: number, leaseUntil: number): Promise<void> {
    await this.#fenced(kind, account, taskId, fence, { leaseUntil });
  }

  async retryTaskLater(kind: TaskKind, account: string, taskId: string, fence: number, retry: { leaseUntil: number; failures: number; lastFailure: string }): Promise<void> {
    await this.#fenced(kind, account, taskId, fence, retry);
  }

  /** Sets attributes of a running task (recording `events` with them), conditional on the worker's fence. */
  async #fenced(kind: TaskKind, account: string, taskId: string, fence: number, set: Record<string, unknown>, remove: readonly string[] = [], events?: readonly OutboxEvent[]): Promise<void> {
    const key = kind === 'import' ? keys.importTask(account, taskId) : keys.exportTask(account, taskId);
    await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          ...updateExpression({ set, remove, conditions: ['fence = :fence AND #status = :running'], names: { '#status': 'status' }, values: { ':fence': fence, ':running': 'Running' }, ...(events ? { events } : {}) }),
        }),
      ),
      `${kind} task ${taskId}: the lease of fence ${fence} was lost`,
    );
  }

  async checkpointImportTask(account: string, taskId: string, fence: number, progress: ImportProgress): Promise<void> {
    const { checkpoint, counts, errorSample, errorCodes, leaseUntil, handoffs, children } = progress;
    await this.#fenced('import', account, taskId, fence, { checkpoint, counts, errorSample, errorCodes, leaseUntil, handoffs, children });
  }


  async finishImportTask(
    account: string,
    taskId: string,
    fence: number,
    outcome: Pick<ImportTaskRecord, 'status' | 'counts' | 'errorSample' | 'errorCodes' | 'checkpoint'> & { finishedAt: string; failure?: string },
    events?: readonly OutboxEvent[],
  ): Promise<void> {
    const { status, counts, errorSample, errorCodes, checkpoint, finishedAt, failure } = outcome;
    await this.#finishTask('import', account, taskId, fence, { status, counts, errorSample, errorCodes, checkpoint, finishedAt, failure }, events);
  }

  async listOpenImportTasks(): Promise<Pick<ImportTaskRecord, 'account' | 'taskId' | 'leaseUntil' | 'status'>[]> {
    return this.#listOpen(keys.openImports);
  }

  async #listOpen(index: string): Promise<Pick<ImportTaskRecord, 'account' | 'taskId' | 'leaseUntil' | 'status'>[]> {
    const items = await this.#all({ IndexName: GSI1, KeyConditionExpression: 'GSI1PK = :pk', ExpressionAttributeValues: { ':pk': index } });
    return items.map((i) => ({ account: String(i.account), taskId: String(i.taskId), leaseUntil: Number(i.leaseUntil), status: i.status as ImportTaskRecord['status'] }));
  }

  async putExportTask(task: ExportTaskRecord): Promise<void> {
    await this.#db.send(
      new PutCommand({ TableName: this.#table, Item: { ...keys.exportRecord(task.account, task.versionId, task.taskId), taskId: task.taskId } }),
    );
    await conditional(
      this.#putNew({ ...keys.exportTask(task.account, task.taskId), GSI1PK: keys.openExports, GSI1SK: `${task.account}#${task.taskId}`, ...task }),
      `export task ${task.taskId} already exists`,
    );
  }

  async getExportTask(account: string, taskId: string): Promise<ExportTaskRecord | undefined> {
    return this.#get<ExportTaskRecord>(keys.exportTask(account, taskId));
  }

  async listExportTasks(account: string, versionId: string): Promise<ExportTaskRecord[]> {
    const pointers = await this.#all({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.account(account), ':prefix': `R#${versionId}#` },
    });
    const tasks = await Promise.all(pointers.map((p) => this.getExportTask(account, String(p.taskId))));
    return tasks.filter((t): t is ExportTaskRecord => t !== undefined);
  }

  async claimExportTask(account: string, taskId: string, now: number, leaseMs: number): Promise<ExportTaskRecord | undefined> {
    return this.#claim<ExportTaskRecord>(keys.exportTask(account, taskId), now, leaseMs);
  }

  async checkpointExportTask(account: string, taskId: string, fence: number, progress: { checkpoint: ExportTaskRecord['checkpoint'] | null; leaseUntil?: number; handoffs?: number }): Promise<void> {
    const { checkpoint, leaseUntil, handoffs } = progress;
    await this.#fenced('export', account, taskId, fence, { ...(checkpoint ? { checkpoint } : {}), leaseUntil, handoffs }, checkpoint ? [] : ['checkpoint']);
  }

  async finishExportTask(
    account: string,
    taskId: string,
    fence: number,
    outcome: Pick<ExportTaskRecord, 'status'> & { finishedAt: string; result?: ExportTaskRecord['result']; failure?: string },
    events?: readonly OutboxEvent[],
  ): Promise<void> {
    const { status, finishedAt, result, failure } = outcome;
    // The checkpoint is of no use once the export has ended.
    await this.#fenced('export', account, taskId, fence, { status, finishedAt, result, failure, leaseUntil: 0 }, ['GSI1PK', 'GSI1SK', 'checkpoint'], events);
  }

  /**
   * Records a running task's outcome with a write conditional on its fence: sets the `fields` that hold a value (an
   * absent optional one is skipped), ends the lease and takes the task out of the open index.
   */
  async #finishTask(kind: TaskKind, account: string, taskId: string, fence: number, fields: Record<string, unknown>, events?: readonly OutboxEvent[]): Promise<void> {
    await this.#fenced(kind, account, taskId, fence, { ...fields, leaseUntil: 0 }, ['GSI1PK', 'GSI1SK'], events);
  }

  async listOpenExportTasks(): Promise<Pick<ExportTaskRecord, 'account' | 'taskId' | 'leaseUntil' | 'status'>[]> {
    return this.#listOpen(keys.openExports);
  }

  async putSchedule(schedule: ScheduleRecord): Promise<void> {
    await conditional(this.#putNew(this.#scheduleItem(schedule)), `schedule ${schedule.scheduleId} already exists`);
  }

  async getSchedule(account: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    return this.#get<ScheduleRecord>(keys.schedule(account, scheduleId));
  }

  async listSchedules(account: string, query: ScheduleListQuery): Promise<SchedulePage> {
    return this.#listOfAccount<ScheduleRecord>(account, keys.schedule, query);
  }

  /** One page of an account's items of one kind (`keyOf` gives the kind's key, so its sort-key prefix), by id. */
  async #listOfAccount<T>(account: string, keyOf: (account: string, id: string) => Item, query: ScheduleListQuery): Promise<{ items: T[]; more: boolean }> {
    const prefix = String(keyOf(account, '').SK);
    const items = await this.#collect(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.account(account), ':prefix': prefix },
        ...(query.after ? { ExclusiveStartKey: keyOf(account, query.after) } : {}),
      },
      query.limit + 1,
      query.reverse,
      undefined,
    );
    return this.#page<T>(items, query.limit);
  }

  async deleteSchedule(account: string, scheduleId: string): Promise<boolean> {
    const out = await conditional(
      this.#db.send(new DeleteCommand({ TableName: this.#table, Key: keys.schedule(account, scheduleId), ConditionExpression: 'attribute_not_exists(outbox)', ReturnValues: 'ALL_OLD' })),
      `schedule ${scheduleId} holds events not published yet`,
    );
    return out.Attributes !== undefined;
  }

  async listDueSchedules(nowIso: string): Promise<ScheduleRecord[]> {
    const items = await this.#all({
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK <= :upper',
      ExpressionAttributeValues: { ':pk': keys.dueSchedules, ':upper': `${nowIso}#\uffff` },
    });
    return items.map((i) => strip<ScheduleRecord>(i));
  }

  async advanceSchedule(account: string, scheduleId: string, expectedNextRunAt: string, changes: ScheduleAdvance, events?: readonly OutboxEvent[]): Promise<ScheduleRecord> {
    const next = changes.nextRunAt
      ? { set: { nextRunAt: changes.nextRunAt, GSI1SK: keys.dueSort(changes.nextRunAt, account, scheduleId) }, remove: [] }
      : { set: { status: 'Stopped', stopReason: changes.stopReason ?? 'The schedule has no further due times.' }, remove: ['nextRunAt', 'GSI1PK', 'GSI1SK'] };
    const out = await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.schedule(account, scheduleId),
          ...updateExpression({
            set: { lastRunAt: changes.lastRunAt, modifiedAt: changes.modifiedAt, ...next.set, lastExportTaskId: changes.lastExportTaskId || undefined, lastSkipReason: changes.lastSkipReason || undefined },
            remove: [...next.remove, ...(changes.lastSkipReason ? [] : ['lastSkipReason'])],
            conditions: ['attribute_exists(PK) AND #status = :active AND nextRunAt = :expected'],
            names: { '#status': 'status' },
            values: { ':active': 'Active', ':expected': expectedNextRunAt },
            ...(events ? { events } : {}),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
      `schedule ${scheduleId} is gone or already past ${expectedNextRunAt}`,
    );
    return strip<ScheduleRecord>(out.Attributes ?? {});
  }

  async stopSchedule(account: string, scheduleId: string, reason: string, at: string, events?: readonly OutboxEvent[]): Promise<boolean> {
    try {
      await conditional(
        this.#db.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: keys.schedule(account, scheduleId),
            ...updateExpression({
              set: { status: 'Stopped', stopReason: reason, modifiedAt: at },
              remove: ['nextRunAt', 'GSI1PK', 'GSI1SK'],
              conditions: ['attribute_exists(PK) AND #status = :active'],
              names: { '#status': 'status' },
              values: { ':active': 'Active' },
              ...(events ? { events } : {}),
            }),
          }),
        ),
        `schedule ${scheduleId} is gone or stopped`,
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      return false;
    }
  }

  async beginSampleEdit(account: string, versionId: string, pending: PendingEdit, init: { annotatedCount?: number } = {}): Promise<VersionRecord> {
    const out = await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.version(account, versionId),
          ...updateExpression({
            set: { pendingEdit: pending, ...(init.annotatedCount === undefined ? {} : { annotatedCount: init.annotatedCount }) },
            conditions: [
              'attribute_exists(PK) AND attribute_not_exists(#pending)',
              pending.rev === 1 ? '(attribute_not_exists(#rev) OR #rev = :committed)' : '#rev = :committed',
              ...(init.annotatedCount === undefined ? [] : ['attribute_not_exists(#annotated)']),
              ...EDITABLE.conditions,
            ],
            names: { '#pending': 'pendingEdit', '#rev': 'editRev', ...(init.annotatedCount === undefined ? {} : { '#annotated': 'annotatedCount' }), ...EDITABLE.names },
            values: { ':committed': pending.rev - 1, ...EDITABLE.values },
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
      `version ${versionId} has another edit pending, moved on, or does not allow edits`,
    );
    return strip<VersionRecord>(out.Attributes ?? {});
  }

  async commitSampleEdit(account: string, versionId: string, pending: Pick<PendingEdit, 'id' | 'rev' | 'delta'>, modifiedAt: string, events?: readonly OutboxEvent[]): Promise<VersionRecord> {
    const { rev, delta } = pending;
    const out = await conditional(
      this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.version(account, versionId),
          ...updateExpression({
            set: { editRev: rev, modifiedAt },
            add: { sampleCount: delta.samples, annotatedCount: delta.annotated, characterCount: delta.characters, sizeBytes: delta.bytes },
            remove: ['pendingEdit'],
            conditions: ['attribute_exists(PK) AND #pending.#id = :id', ...EDITABLE.conditions],
            names: { '#pending': 'pendingEdit', '#id': 'id', ...EDITABLE.names },
            values: { ':id': pending.id, ...EDITABLE.values },
            ...(events ? { events } : {}),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      ),
      `the edit ${pending.id} (${rev}) of version ${versionId} is no longer pending, or the version no longer allows edits`,
    );
    return strip<VersionRecord>(out.Attributes ?? {});
  }

  async abandonSampleEdit(account: string, versionId: string, id: string): Promise<void> {
    await this.#db
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.version(account, versionId),
          ...updateExpression({ remove: ['pendingEdit'], conditions: ['#pending.#id = :id'], names: { '#pending': 'pendingEdit', '#id': 'id' }, values: { ':id': id } }),
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) throw error;
      });
  }

  async getSampleEdits(account: string, versionId: string, sampleIds: readonly string[]): Promise<Map<string, SampleEdit>> {
    const found = await Promise.all([...new Set(sampleIds)].map((id) => this.#get<SampleEdit>(keys.sampleEdit(account, versionId, id))));
    return new Map(found.filter((e): e is SampleEdit => e !== undefined).map((e) => [e.sampleId, e]));
  }

  async listSampleEdits(account: string, versionId: string, prefix = ''): Promise<SampleEdit[]> {
    const items = await this.#all({
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': keys.account(account), ':sk': `${keys.sampleEditsOf(versionId)}${prefix}` },
      ConsistentRead: true,
    });
    return items.map((i) => strip<SampleEdit>(i));
  }

  async putSampleEdits(edits: readonly SampleEdit[]): Promise<void> {
    await this.#batchWrite(edits.map((e) => ({ PutRequest: { Item: { ...keys.sampleEdit(e.account, e.versionId, e.sampleId), ...e } } })));
  }

  async deleteSampleEdits(account: string, versionId: string, sampleIds: readonly string[]): Promise<void> {
    await this.#batchDelete(sampleIds.map((id) => keys.sampleEdit(account, versionId, id)));
  }

  async putTombstone(tombstone: Tombstone, events?: readonly OutboxEvent[]): Promise<void> {
    // The events ride on the tombstone (published when the deletion is done), but it is indexed as a deletion, not
    // as an outbox: the purge finishes it, and publishing is part of finishing.
    const item = { ...keys.tombstone(tombstone.account, tombstone.id), ...tombstone, ...(events && events.length > 0 ? { outbox: [...events] } : {}) };
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: { ...item, GSI2PK: keys.deletions, GSI2SK: `${tombstone.createdAt}#${tombstone.account}#${tombstone.id}` } }));
  }

  async getTombstone(account: string, id: string): Promise<Tombstone | undefined> {
    return this.#get<Tombstone>(keys.tombstone(account, id));
  }

  async listTombstones(limit: number): Promise<{ account: string; id: string }[]> {
    const items = await this.#collect({ IndexName: GSI2, KeyConditionExpression: 'GSI2PK = :pk', ExpressionAttributeValues: { ':pk': keys.deletions } }, limit, false, undefined);
    return items.flatMap((i) => {
      const item = outboxItemOf(i);
      return item?.kind === 'tombstone' ? [{ account: item.account, id: item.id }] : [];
    });
  }

  async updateTombstoneVersions(account: string, id: string, versions: Tombstone['versions']): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.#table,
      Key: keys.tombstone(account, id),
      UpdateExpression: 'SET versions = :v',
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeValues: { ':v': versions },
    });
    await conditional(this.#db.send(update), `tombstone ${id} is gone`).catch((error: unknown) => {
      if (!(error instanceof ConditionFailedError)) throw error;
    });
  }

  async deleteTombstone(account: string, id: string, legacyIds: readonly number[] = []): Promise<void> {
    await this.#batchDelete([...legacyIds.map((n) => keys.legacy(account, n)), keys.tombstone(account, id)]);
  }

  async deleteDatasetItem(account: string, datasetId: string): Promise<void> {
    await this.#deleteUnlessOutbox(keys.dataset(account, datasetId), `dataset ${datasetId}`);
  }

  async deleteVersionItem(account: string, versionId: string): Promise<void> {
    await this.#deleteUnlessOutbox(keys.version(account, versionId), `version ${versionId}`);
  }

  /** Deletes an item unless it holds events not published yet (they would be lost with it). */
  async #deleteUnlessOutbox(key: Item, what: string): Promise<void> {
    await conditional(
      this.#db.send(new DeleteCommand({ TableName: this.#table, Key: key, ConditionExpression: 'attribute_not_exists(outbox)' })),
      `${what} holds events not published yet`,
    );
  }

  async putImportRule(rule: ImportRuleRecord): Promise<void> {
    const item = { ...keys.importRule(rule.account, rule.ruleId), GSI1PK: keys.rules, GSI1SK: keys.ruleSort(rule.bucket, rule.prefix, rule.account, rule.ruleId), ...rule };
    await conditional(this.#putNew(item), `import rule ${rule.ruleId} already exists`);
  }

  async getImportRule(account: string, ruleId: string): Promise<ImportRuleRecord | undefined> {
    return this.#get<ImportRuleRecord>(keys.importRule(account, ruleId));
  }

  async listImportRules(account: string, query: ScheduleListQuery): Promise<{ items: ImportRuleRecord[]; more: boolean }> {
    return this.#listOfAccount<ImportRuleRecord>(account, keys.importRule, query);
  }

  async deleteImportRule(account: string, ruleId: string): Promise<boolean> {
    const out = await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: keys.importRule(account, ruleId), ReturnValues: 'ALL_OLD' }));
    return out.Attributes !== undefined;
  }

  async listRulesOnBucket(bucket?: string): Promise<ImportRuleRecord[]> {
    const items = await this.#all({
      IndexName: GSI1,
      KeyConditionExpression: bucket === undefined ? 'GSI1PK = :pk' : 'GSI1PK = :pk AND begins_with(GSI1SK, :bucket)',
      ExpressionAttributeValues: { ':pk': keys.rules, ...(bucket === undefined ? {} : { ':bucket': `${bucket}#` }) },
    });
    return items.map((i) => strip<ImportRuleRecord>(i));
  }

  async setRuleSweptUntil(account: string, ruleId: string, sweptUntil: string): Promise<void> {
    await this.#db
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: keys.importRule(account, ruleId),
          ...updateExpression({ set: { sweptUntil }, conditions: ['attribute_exists(PK)'] }),
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException')) throw error;
      });
  }

  async getOutbox(item: OutboxItem): Promise<OutboxEvent[]> {
    const out = await this.#db.send(new GetCommand({ TableName: this.#table, Key: outboxKey(item), ProjectionExpression: 'outbox', ConsistentRead: true }));
    return (out.Item?.outbox as OutboxEvent[] | undefined) ?? [];
  }

  async ackOutbox(item: OutboxItem, eventIds: readonly string[]): Promise<number> {
    const published = new Set(eventIds);
    const key = outboxKey(item);
    // First guess: the outbox holds exactly these events, in this order (one transition's, acknowledged by its writer).
    let outbox: { eventId: string }[] = eventIds.map((eventId) => ({ eventId }));
    for (let attempt = 0; attempt < 4; attempt++) {
      // The published events at the head of the outbox (it grows at its tail, shrinks at its head).
      let head = 0;
      while (head < outbox.length && published.has(outbox[head]!.eventId)) head++;
      if (head === 0) return outbox.length;
      const all = head === outbox.length;
      const last = { ':last': outbox[head - 1]!.eventId };
      try {
        await conditional(
          this.#db.send(
            new UpdateCommand({
              TableName: this.#table,
              Key: key,
              ...(all
                ? {
                    // Exactly these: the item leaves the outbox index.
                    UpdateExpression: 'REMOVE outbox, GSI2PK, GSI2SK',
                    ConditionExpression: 'size(outbox) = :n AND outbox[' + (head - 1) + '].eventId = :last',
                    ExpressionAttributeValues: { ':n': head, ...last },
                  }
                : {
                    UpdateExpression: `REMOVE ${Array.from({ length: head }, (_, i) => `outbox[${i}]`).join(', ')}`,
                    ConditionExpression: `outbox[${head - 1}].eventId = :last`,
                    ExpressionAttributeValues: last,
                  }),
            }),
          ),
          'the outbox changed',
        );
        return outbox.length - head;
      } catch (error) {
        if (!(error instanceof ConditionFailedError)) throw error;
        // Another process acknowledged some, or a transition added more: look again.
        outbox = await this.getOutbox(item);
      }
    }
    return outbox.length;
  }

  async listOutbox(before: string, limit: number): Promise<OutboxEntry[]> {
    const items = await this.#collect(
      { IndexName: GSI2, KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before', ExpressionAttributeValues: { ':pk': keys.outbox, ':before': before } },
      limit,
      false,
      undefined,
    );
    const entries: OutboxEntry[] = [];
    for (const i of items) {
      const item = outboxItemOf(i);
      if (item && Array.isArray(i.outbox) && i.outbox.length > 0) entries.push({ item, events: i.outbox as OutboxEvent[], since: String(i.GSI2SK) });
    }
    return entries;
  }

  async deleteLegacyLookup(account: string, legacyId: number): Promise<void> {
    await this.#delete(keys.legacy(account, legacyId));
  }

  async claimToken(record: TokenRecord, nowSeconds: number): Promise<TokenRecord> {
    const key = keys.token(record.account, record.scope);
    try {
      await conditional(
        this.#db.send(
          new PutCommand({
            TableName: this.#table,
            Item: { ...key, ...record },
            ConditionExpression: 'attribute_not_exists(PK) OR expiresAt < :now',
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        ),
        'token in use',
      );
      return record;
    } catch (error) {
      if (!(error instanceof ConditionFailedError)) throw error;
      return (await this.#get<TokenRecord>(key)) ?? strip<TokenRecord>({});
    }
  }

  async getToken(account: string, scope: string, nowSeconds: number): Promise<TokenRecord | undefined> {
    const record = await this.#get<TokenRecord>(keys.token(account, scope));
    return record && record.expiresAt >= nowSeconds ? record : undefined;
  }

  async completeToken(account: string, scope: string, result: unknown): Promise<void> {
    await this.#db.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: keys.token(account, scope),
        UpdateExpression: 'SET #r = :r',
        ExpressionAttributeNames: { '#r': 'result' },
        ExpressionAttributeValues: { ':r': result },
      }),
    );
  }

  async listAccounts(): Promise<string[]> {
    const accounts = new Set<string>();
    let startKey: Item | undefined;
    do {
      const page = await this.#db.send(
        new ScanCommand({
          TableName: this.#table,
          ProjectionExpression: 'PK',
          FilterExpression: 'begins_with(PK, :a)',
          ExpressionAttributeValues: { ':a': 'A#' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) accounts.add(String(item.PK).slice(2));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return [...accounts];
  }

  async deleteAccountData(account: string): Promise<void> {
    let startKey: Item | undefined;
    do {
      const page = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.account(account) },
          ProjectionExpression: 'PK, SK',
          ExclusiveStartKey: startKey,
        }),
      );
      await this.#batchDelete((page.Items ?? []).map((i) => ({ PK: i.PK, SK: i.SK })));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Runs a query page after page until `want` items passed the optional filter or the range is exhausted. */
  async #collect(
    input: Omit<QueryCommandInput, 'TableName'>,
    want: number,
    reverse: boolean,
    filter: Filter | undefined,
  ): Promise<Item[]> {
    const found: Item[] = [];
    let startKey = input.ExclusiveStartKey;
    const limit = (remaining: number) =>
      filter ? Math.max(Math.min(remaining, 1000), FILTERED_BATCH) : Math.min(remaining, 1000);
    do {
      const out = await this.#db.send(
        new QueryCommand({
          ...input,
          TableName: this.#table,
          ScanIndexForward: !reverse,
          ExclusiveStartKey: startKey,
          Limit: limit(want - found.length),
          ...(filter
            ? {
                FilterExpression: filter.expression,
                ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ...filter.values },
                ...(filter.names ? { ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...filter.names } } : {}),
              }
            : {}),
        }),
      );
      found.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && found.length < want);
    return found.slice(0, want);
  }

  /** Every item of a query, in key order. */
  async #all(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    return this.#collect(input, Number.MAX_SAFE_INTEGER, false, undefined);
  }

  /** A page of `limit` records out of up to `limit + 1` items; the extra one only tells that there are more. */
  #page<T>(items: Item[], limit: number): { items: T[]; more: boolean } {
    return { items: items.slice(0, limit).map((i) => strip<T>(i)), more: items.length > limit };
  }

  /** One item by key, read consistently, without its key attributes. */
  async #get<T>(key: Item): Promise<T | undefined> {
    const out = await this.#db.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }));
    return out.Item ? strip<T>(out.Item) : undefined;
  }

  async #delete(key: Item): Promise<void> {
    await this.#db.send(new DeleteCommand({ TableName: this.#table, Key: key }));
  }

  async #putNew(item: Item): Promise<void> {
    await this.#db.send(
      new PutCommand({ TableName: this.#table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }),
    );
  }

  async #batchDelete(keyList: Item[]): Promise<void> {
    await this.#batchWrite(keyList.map((Key) => ({ DeleteRequest: { Key } })));
  }

  /** Writes requests 25 at a time, retrying what DynamoDB leaves unprocessed with a jittered backoff. */
  async #batchWrite(all: ({ DeleteRequest: { Key: Item } } | { PutRequest: { Item: Item } })[]): Promise<void> {
    for (let i = 0; i < all.length; i += 25) {
      let requests: typeof all | undefined = all.slice(i, i + 25);
      for (let attempt = 0; requests && requests.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt) * Math.random());
        const out = await this.#db.send(new BatchWriteCommand({ RequestItems: { [this.#table]: requests } }));
        requests = out.UnprocessedItems?.[this.#table] as typeof requests;
      }
    }
  }

  #datasetItem(dataset: DatasetRecord): Item {
    return {
      ...keys.dataset(dataset.account, dataset.datasetId),
      GSI1PK: keys.byFormat(dataset.account, dataset.dataFormat),
      GSI1SK: dataset.datasetId,
      nameLower: dataset.name.toLowerCase(),
      ...dataset,
    };
  }

  #scheduleItem(schedule: ScheduleRecord): Item {
    return {
      ...keys.schedule(schedule.account, schedule.scheduleId),
      ...(schedule.status === 'Active' && schedule.nextRunAt
        ? { GSI1PK: keys.dueSchedules, GSI1SK: keys.dueSort(schedule.nextRunAt, schedule.account, schedule.scheduleId) }
        : {}),
      ...schedule,
    };
  }

  #versionIndex(version: Pick<VersionRecord, 'account' | 'datasetId' | 'versionId'>): Item {
    return { GSI1PK: keys.byDataset(version.account, version.datasetId), GSI1SK: version.versionId };
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
