/**
 * V1 `POST /wenxinworkshop/dataset/create` (seed 002, spec §1.1–1.2): creates a dataset and its version 1.
 */
import { datasets, viewSettings } from '../../shared/root.js';
import { V1_STORAGE, V1_TEMPLATES, type V1TemplateType } from '../../shared/api/formats.js';
import { v1CreateResult } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { V1 } from '../../shared/api/registry.js';

export const create = implement(V1.create, async (body, { caller, clientToken }) => {
  const template = V1_TEMPLATES[body.templateType as V1TemplateType];
  const created = await datasets().createDataset(caller, {
    name: body.name,
    dataFormat: template.dataFormat,
    storageType: V1_STORAGE[body.storageType],
    ...(body.storageType === 'usrBos' ? { bucket: body.storageId, dir: body.rawStoragePath } : {}),
    projectType: body.projectType,
    templateType: body.templateType,
    dataType: body.dataType,
  }, clientToken);
  return v1CreateResult(created, viewSettings());
});

export const handler = httpHandler(create);
