/**
 * V1 `POST /wenxinworkshop/dataset/create` (seed 002, spec §1.1–1.2): creates a dataset and its version 1.
 */
import * as z from 'zod';
import { datasets, viewSettings } from '../../shared/datasets/index.js';
import { bucketName, datasetName, directoryProblem } from '../../shared/api/fields.js';
import { V1_STORAGE, V1_TEMPLATES, V1_PROJECT_TYPES, V1_TEMPLATE_TYPES, type V1TemplateType } from '../../shared/api/formats.js';
import { v1CreateResult } from '../../shared/api/views.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';

const literals = <T extends number>(values: readonly T[]) =>
  z.number().refine((v): v is T => (values as readonly number[]).includes(v), `must be one of ${values.join(', ')}`);

export const input = z
  .object({
    name: datasetName,
    /** The SDK always sends 1; adding versions to an existing group through V1 is not part of the contract. */
    versionId: z.literal(1, 'must be 1 (V1 create always makes version 1)').optional(),
    projectType: literals(V1_PROJECT_TYPES),
    templateType: literals(V1_TEMPLATE_TYPES),
    dataType: literals([4, 7] as const),
    storageType: z.enum(['sysBos', 'usrBos']),
    storageId: z.string().optional(),
    rawStoragePath: z.string().max(1024).optional(),
  })
  .superRefine((body, ctx) => {
    const template = V1_TEMPLATES[body.templateType as V1TemplateType];
    if (template && template.projectType !== body.projectType) {
      ctx.addIssue({
        code: 'custom',
        path: ['templateType'],
        message: `templateType ${body.templateType} does not belong to projectType ${body.projectType} (it belongs to ${template.projectType})`,
      });
    }
    if (body.dataType === 7 && (body.projectType !== 705 || body.templateType !== 70500)) {
      ctx.addIssue({ code: 'custom', path: ['dataType'], message: 'dataType 7 (multimodal) requires projectType 705 and templateType 70500' });
    }
    if (body.storageType === 'usrBos') {
      const bucket = bucketName.safeParse(body.storageId);
      if (!bucket.success) {
        ctx.addIssue({ code: 'custom', path: ['storageId'], message: `is required with storageType usrBos and ${bucket.error.issues[0]?.message ?? 'must be a bucket name'}` });
      }
      if (!body.rawStoragePath || !/^\/(?:[^/]+\/)*$/.test(body.rawStoragePath)) {
        ctx.addIssue({ code: 'custom', path: ['rawStoragePath'], message: 'is required with storageType usrBos and must start and end with "/", like "/yourDir/"' });
      } else {
        const problem = directoryProblem(body.rawStoragePath, 'dataset');
        if (problem) ctx.addIssue({ code: 'custom', path: ['rawStoragePath'], message: problem });
      }
    }
  });

export const create = defineOperation({
  api: 'v1',
  name: 'create',
  needs: 'data:Write',
  input,
  async run(body, { caller, clientToken }) {
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
  },
});

export const handler = httpHandler(create);
