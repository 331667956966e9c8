/**
 * The metadata store: the port, the DynamoDB adapter, and the store a configuration names (the composition root,
 * `shared/root.ts`, builds the process's one).
 */
import type { Config } from '../config.js';
import { DynamoMetadataStore } from './dynamo.js';
import type { MetadataStore } from './port.js';

export * from './port.js';
export { DynamoMetadataStore, createDocumentClient } from './dynamo.js';
export { tableDefinition } from './table.js';

/** The metadata store a configuration names (DynamoDB; dynalite's endpoint locally). */
export function createMetadataStore(c: Pick<Config, 'QFDATA_TABLE' | 'AWS_REGION' | 'QFDATA_DYNAMODB_ENDPOINT'>): MetadataStore {
  return new DynamoMetadataStore({ tableName: c.QFDATA_TABLE, region: c.AWS_REGION, ...(c.QFDATA_DYNAMODB_ENDPOINT ? { endpoint: c.QFDATA_DYNAMODB_ENDPOINT } : {}) });
}
