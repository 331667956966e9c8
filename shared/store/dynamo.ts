/**
 * DynamoDB adapter of the metadata port. The same code talks to DynamoDB in the cloud and to dynalite locally and
 * in tests. dynalite has no transactions, so every state change is one conditional write on one item, and changes
 * that span items are ordered children first, visible record last (see `./table.ts` for the layout).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  BatchWriteCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { GSI1 } from './table.js';
import type {
  AccessKeyRecord,
  DatasetListQuery,
  DatasetPage,
  DatasetRecord,
  MetadataStore,
  NewDataset,
  VersionRecord,
} from './port.js';

export interface DynamoStoreOptions {
  tableName: string;
  region: string;
  /** Set for dynalite (locally and in tests); unset in the cloud. */
  endpoint?: string;
}

type Item = Record<string, unknown>;

const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'nameLower'] as const;

const keys = {
  accessKey: (ak: string) => ({ PK: `K#${ak}`, SK: 'K' }),
  legacyCounter: () => ({ PK: 'C#legacy', SK: 'C' }),
  account: (account: string) => `A#${account}`,
  dataset: (account: string, datasetId: string) => ({ PK: `A#${account}`, SK: `D#${datasetId}` }),
  version: (account: string, versionId: string) => ({ PK: `A#${account}`, SK: `V#${versionId}` }),
  legacy: (account: string, legacyId: number) => ({ PK: `A#${account}`, SK: `L#${legacyId}` }),
  byFormat: (account: string, format: string) => `A#${account}#F#${format}`,
  byDataset: (account: string, datasetId: string) => `A#${account}#D#${datasetId}`,
};

/** Query page size when a filter may drop items: large enough to fill a page in few round trips. */
const FILTERED_BATCH = 100;

export function createDocumentClient(options: Omit<DynamoStoreOptions, 'tableName'>): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
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
    const out = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: keys.accessKey(accessKeyId), ConsistentRead: true }),
    );
    return out.Item ? strip<AccessKeyRecord>(out.Item) : undefined;
  }

  async putAccessKey(record: AccessKeyRecord): Promise<void> {
    await this.#db.send(new PutCommand({ TableName: this.#table, Item: { ...keys.accessKey(record.accessKeyId), ...record } }));
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

  async createDataset(input: NewDataset): Promise<{ dataset: DatasetRecord; firstVersion: VersionRecord }> {
    const dataset: DatasetRecord = { ...input.dataset, lastVersionNumber: 1 };
    const firstVersion: VersionRecord = { ...input.firstVersion, versionNumber: 1 };
    const { account } = dataset;
    // Children first: the version and its legacy-id lookup are invisible until the dataset item exists.
    await Promise.all([
      this.#putNew({ ...keys.version(account, firstVersion.versionId), ...this.#versionIndex(firstVersion), ...firstVersion }),
      this.#putNew({ ...keys.legacy(account, firstVersion.legacyId), versionId: firstVersion.versionId }),
    ]);
    await this.#putNew(this.#datasetItem(dataset));
    return { dataset, firstVersion };
  }

  async getDataset(account: string, datasetId: string): Promise<DatasetRecord | undefined> {
    const out = await this.#db.send(
      new GetCommand({ TableName: this.#table, Key: keys.dataset(account, datasetId), ConsistentRead: true }),
    );
    return out.Item ? strip<DatasetRecord>(out.Item) : undefined;
  }

  async listDatasets(account: string, query: DatasetListQuery): Promise<DatasetPage> {
    const want = query.limit + 1;
    const nameFilter = query.nameContains ? query.nameContains.toLowerCase() : undefined;
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
    return { items: items.slice(0, query.limit).map((i) => strip<DatasetRecord>(i)), more: items.length > query.limit };
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

  /** Runs a query page after page until `want` items passed the optional name filter or the range is exhausted. */
  async #collect(
    input: Omit<QueryCommandInput, 'TableName'>,
    want: number,
    reverse: boolean,
    nameFilter: string | undefined,
  ): Promise<Item[]> {
    const found: Item[] = [];
    let startKey = input.ExclusiveStartKey;
    do {
      const out = await this.#db.send(
        new QueryCommand({
          ...input,
          TableName: this.#table,
          ScanIndexForward: !reverse,
          ExclusiveStartKey: startKey,
          Limit: nameFilter ? Math.max(want, FILTERED_BATCH) : want - found.length,
          ...(nameFilter
            ? {
                FilterExpression: 'contains(nameLower, :name)',
                ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ':name': nameFilter },
              }
            : {}),
        }),
      );
      found.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey && found.length < want);
    return found.slice(0, want);
  }

  async #putNew(item: Item): Promise<void> {
    await this.#db.send(
      new PutCommand({ TableName: this.#table, Item: item, ConditionExpression: 'attribute_not_exists(PK)' }),
    );
  }

  async #batchDelete(keyList: Item[]): Promise<void> {
    for (let i = 0; i < keyList.length; i += 25) {
      let requests: { DeleteRequest: { Key: Item } }[] | undefined = keyList
        .slice(i, i + 25)
        .map((Key) => ({ DeleteRequest: { Key } }));
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
