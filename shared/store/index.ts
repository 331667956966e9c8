/**
 * The process-wide metadata store, built once from the configuration at first use (cold start).
 */
import { config } from '../config.js';
import { DynamoMetadataStore } from './dynamo.js';
import type { MetadataStore } from './port.js';

export * from './port.js';
export { DynamoMetadataStore, createDocumentClient } from './dynamo.js';
export { tableDefinition } from './table.js';

let store: MetadataStore | undefined;

export function metadataStore(): MetadataStore {
  if (!store) {
    const c = config();
    store = new DynamoMetadataStore({
      tableName: c.QFDATA_TABLE,
      region: c.AWS_REGION,
      ...(c.QFDATA_DYNAMODB_ENDPOINT ? { endpoint: c.QFDATA_DYNAMODB_ENDPOINT } : {}),
    });
  }
  return store;
}
