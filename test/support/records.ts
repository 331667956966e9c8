/**
 * Builders of store records for tests.
 */
import { newId } from '../../shared/datasets/ids.js';
import { versionStorage } from '../../shared/datasets/layout.js';
import type { NewDataset } from '../../shared/store/index.js';
import type { AccessKeyRecord, DataFormat } from '../../shared/model.js';

let legacy = 1000;

export function newDatasetInput(account: string, name: string, dataFormat: DataFormat = 'PromptResponse'): NewDataset {
  const datasetId = newId('dataset');
  const versionId = newId('version');
  const now = new Date().toISOString();
  legacy += 2;
  return {
    dataset: {
      account,
      datasetId,
      legacyId: legacy,
      name,
      dataFormat,
      storageType: 'sysStorage',
      storageBucket: 'qfdata',
      storageDir: '/',
      projectType: 20,
      templateType: 2000,
      dataType: 4,
      createdAt: now,
      modifiedAt: now,
    },
    firstVersion: {
      account,
      versionId,
      datasetId,
      legacyId: legacy + 1,
      description: '',
      storage: versionStorage('qfdata', '/', versionId, dataFormat),
      importStatus: 'Created',
      publishStatus: 'Unpublished',
      exportStatus: 'None',
      sampleCount: 0,
      characterCount: 0,
      sizeBytes: 0,
      createdAt: now,
      modifiedAt: now,
    },
  };
}

/** An access key record as the store holds it (the sealed secret is opaque to the store). */
export function accessKeyRecord(accessKeyId: string, account: string, overrides: Partial<AccessKeyRecord> = {}): AccessKeyRecord {
  return {
    accessKeyId,
    account,
    sealedSecret: `sealed(${accessKeyId})`,
    policy: 'QianfanFullControlAccessPolicy',
    enabled: true,
    description: '',
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}
