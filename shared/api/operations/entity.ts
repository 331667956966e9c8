/**
 * Qianfan's entity API (`POST /wenxinworkshop/entity/<name>`, spec §1.3): a version's samples one by one. Request
 * shapes as bce-qianfan-sdk sends them (`python/qianfan/resources/console/data.py` `list_all_entity_in_dataset`,
 * `annotate_an_entity`, `delete_an_entity`); `datasetId` is a version, as everywhere in V1.
 */
import * as z from 'zod';
import { MAX_DELETE_IDS, MAX_PAGE_SIZE } from '../../datasets/samples.js';
import { versionRef } from '../fields.js';
import type { v1Entity } from '../views.js';
import { contract } from '../contract.js';

/** `[start, end]` as the SDK sends times: epoch seconds (or milliseconds); `[]` means no range. */
const timeRange = z
  .array(z.number().nonnegative())
  .refine((r) => r.length === 0 || (r.length === 2 && r[0]! <= r[1]!), 'must be [start, end] (epoch seconds, start ≤ end) or []')
  .optional()
  .transform((r) => (r && r.length === 2 ? ([toMs(r[0]!), toMs(r[1]!)] as const) : undefined));

/** Epoch seconds (as Qianfan's console sends) or milliseconds, told apart by size. */
function toMs(t: number): number {
  return t < 1e11 ? t * 1000 : t;
}

/** A sample id: any string that could be one (one that names no sample of the version answers ResourceNotFound). */
const sampleIdField = z.string().min(1).max(128);

const label = z.object({
  label_id: z.string().max(128).optional().default(''),
  name: z.string().min(1).max(256),
  color: z.string().max(32).optional().default(''),
});

const list = contract<{ totalAll: number; total: number; items: ReturnType<typeof v1Entity>[] }>()({
  route: 'entity',
  name: 'list',
  needs: 'data:Read',
  ids: ['versionId'],
  extension: false,
  input: () => z.object({
    datasetId: versionRef,
    offset: z.number().int().min(0).optional().default(0),
    pageSize: z.number().int().min(1).max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`).optional().default(20),
    tabType: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'must be 0 (all), 1 (annotated) or 2 (not annotated)' }).optional().default(0),
    importTime: timeRange,
    annoTime: timeRange,
    labelId: z.string().max(128).optional().transform((v) => v || undefined),
  }),
  example: (ids) => ({ datasetId: ids.versionId, offset: 0, pageSize: 10, tabType: 0 as const }),
});

const annotate = contract<true>()({
  route: 'entity',
  name: 'annotate',
  needs: 'data:Write',
  ids: ['versionId', 'sampleId'],
  extension: false,
  input: () => z.object({
    id: sampleIdField,
    datasetId: versionRef,
    /** The sample's new content: the sample as its format's JSONL line has it (`[{"prompt", "response": [["…"]]}]`). */
    content: z.unknown().optional(),
    labels: z.array(label).max(100).optional(),
  }),
  example: (ids) => ({ id: ids.sampleId, datasetId: ids.versionId, content: [{ prompt: 'hello', response: [['hi']] }] }),
});

const deleteEntities = contract<{ failedOnes: string[] | null }>()({
  route: 'entity',
  name: 'delete',
  needs: 'data:Delete',
  ids: ['versionId', 'sampleId'],
  extension: false,
  input: () => z.object({
    id: z.array(sampleIdField).min(1, 'must list at least one sample id').max(MAX_DELETE_IDS, `must list at most ${MAX_DELETE_IDS} sample ids`),
    datasetId: versionRef,
  }),
  example: (ids) => ({ id: [ids.sampleId], datasetId: ids.versionId }),
});

/** The entity operations, by path segment. */
export const ENTITY = { list, annotate, delete: deleteEntities };
