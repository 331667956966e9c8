/**
 * The V1 operations (`POST /wenxinworkshop/dataset/<name>`, spec §1; Qianfan's console API): one contract each.
 * `datasetId` is a version (V1 calls a version a dataset), by its `ds-` id or its legacy integer id.
 */
import * as z from 'zod';
import { bucketName, datasetName, directoryProblem, importFilesField, versionRef } from '../fields.js';
import { V1_PROJECT_TYPES, V1_TEMPLATE_TYPES, V1_TEMPLATES, type V1TemplateType } from '../formats.js';
import type { v1CreateResult, v1ExportRecord, v1ImportErrorDetail, v1Info, v1Status } from '../views.js';
import { contract } from '../contract.js';

const literals = <T extends number>(values: readonly T[]) =>
  z.number().refine((v): v is T => (values as readonly number[]).includes(v), `must be one of ${values.join(', ')}`);

const create = contract<ReturnType<typeof v1CreateResult>>()({
  route: 'v1',
  name: 'create',
  needs: 'data:Write',
  ids: [],
  extension: false,
  input: () => z
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
    }),
  example: () => ({ name: 'hello_dataset', versionId: 1, projectType: 20, templateType: 2000, dataType: 4, storageType: 'sysBos' }) as const,
});

const info = contract<ReturnType<typeof v1Info>>()({
  route: 'v1',
  name: 'info',
  needs: 'data:Read',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ datasetId: versionRef }),
  example: (ids) => ({ datasetId: ids.versionId }),
});

const statusList = contract<Record<string, ReturnType<typeof v1Status>>>()({
  route: 'v1',
  name: 'statusList',
  needs: 'data:Read',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ datasetIds: z.array(versionRef).min(1).max(100) }),
  example: (ids) => ({ datasetIds: [ids.versionId] }),
});

const release = contract<true>()({
  route: 'v1',
  name: 'release',
  needs: 'data:Write',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ datasetId: versionRef }),
  example: (ids) => ({ datasetId: ids.versionId }),
});

const deleteVersion = contract<{ versionCount: number }>()({
  route: 'v1',
  name: 'delete',
  needs: 'data:Delete',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ datasetId: versionRef }),
  example: (ids) => ({ datasetId: ids.versionId }),
});

/** `files` are BOS paths for `importFrom` 1 (checked as V2's are) and share links for 2 (not supported: refused later). */
const importData = contract<true>()({
  route: 'v1',
  name: 'import',
  needs: 'data:Write',
  ids: ['versionId'],
  extension: false,
  input: () => z
    .object({
      datasetId: versionRef,
      annotated: z.boolean().optional().default(true),
      importFrom: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (BOS) or 2 (share link)' }),
      files: z.array(z.string().min(1).max(2048)).min(1, 'must list one directory or one or more files').max(1000),
    })
    .transform((body, ctx) => {
      if (body.importFrom !== 1) return body;
      const files = importFilesField.safeParse(body.files);
      if (files.success) return { ...body, files: files.data };
      for (const issue of files.error.issues) {
        ctx.addIssue({ code: 'custom', path: ['files', ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: issue.message });
      }
      return z.NEVER;
    }),
  example: (ids) => ({ datasetId: ids.versionId, annotated: true, importFrom: 1 as const, files: ['bos:/corpus/a.jsonl'] }),
});

const importErrorDetail = contract<ReturnType<typeof v1ImportErrorDetail>>()({
  route: 'v1',
  name: 'importErrorDetail',
  needs: 'data:Read',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ datasetId: versionRef, errCode: z.number().int().min(1).max(99) }),
  example: (ids) => ({ datasetId: ids.versionId, errCode: 3 }),
});

/** Where V1 exports to a bucket go (V1 names only the bucket). */
export const V1_EXPORT_DIR = '/qfdata-export/';

const exportData = contract<true>()({
  route: 'v1',
  name: 'export',
  needs: 'data:Write',
  ids: ['versionId'],
  extension: false,
  input: () => z
    .object({
      datasetId: versionRef,
      exportFormat: z.literal(0, 'must be 0 (the platform default format)'),
      exportType: z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (all data) or 2 (source files only)' }),
      exportTo: z.union([z.literal(0), z.literal(1)], { error: 'must be 0 (platform) or 1 (BOS)' }),
      storageId: z.string().max(63).optional(),
    })
    .superRefine((body, ctx) => {
      if (body.exportTo === 1 && !bucketName.safeParse(body.storageId).success) {
        ctx.addIssue({ code: 'custom', path: ['storageId'], message: 'is required with exportTo 1 and must be a bucket name' });
      }
    }),
  example: (ids) => ({ datasetId: ids.versionId, exportFormat: 0 as const, exportType: 1 as const, exportTo: 0 as const }),
});

const exportRecord = contract<ReturnType<typeof v1ExportRecord>[]>()({
  route: 'v1',
  name: 'exportRecord',
  needs: 'data:Read',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({ datasetId: versionRef }),
  example: (ids) => ({ datasetId: ids.versionId }),
});

/** The V1 operations, by path segment. */
export const V1 = { create, info, statusList, release, delete: deleteVersion, import: importData, importErrorDetail, export: exportData, exportRecord };
