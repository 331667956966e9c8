/**
 * A fresh in-memory dynalite with the qfdata table, for store-level tests.
 */
import { randomUUID } from 'node:crypto';
import { createDocumentClient, DynamoMetadataStore } from '../../shared/store/index.js';
import { ensureTable, startDynamo, type Dynamo } from '../../scripts/local.js';

export interface TestDynamo {
  dynamo: Dynamo;
  tableName: string;
  store: DynamoMetadataStore;
  /** The raw document client, for tests that need to reach past the port (e.g. to delete an item). */
  db: ReturnType<typeof createDocumentClient>;
}

export async function startTestDynamo(): Promise<TestDynamo> {
  const dynamo = await startDynamo({});
  const tableName = `t-${randomUUID().slice(0, 8)}`;
  await ensureTable(dynamo.endpoint, tableName);
  const options = { tableName, region: 'us-east-1', endpoint: dynamo.endpoint };
  const db = createDocumentClient(options);
  return { dynamo, tableName, store: new DynamoMetadataStore(options, db), db };
}
