/**
 * The documented shape of every event's detail, one zod schema per detail-type: the source of the JSON Schemas under
 * `docs/events/` (`npm run events:schemas` writes them; a test fails when they are stale) and what the tests hold
 * every published event against. Only the docs script and the tests import this module: the functions build events
 * with `./catalog.ts` and never load zod for them.
 *
 * Versioning: `schemaVersion` is 1. A field may be added within a version (consumers ignore fields they do not
 * know, and `additionalProperties` is not closed); removing a field or changing its meaning makes version 2, and the
 * detail-type stays.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as z from 'zod';
import { DATA_FORMATS } from '../model.js';
import { DETAIL_TYPES, SCHEMA_VERSION, type DetailType } from './catalog.js';

const id = (prefix: string, what: string) => z.string().regex(new RegExp(`^${prefix}[0-9a-z]{16}$`)).describe(what);
const iso = (what: string) => z.iso.datetime({ offset: true }).describe(what);
const count = (what: string) => z.number().int().min(0).describe(what);

const fetch = z
  .object({
    route: z.string().describe('the API route: `/v2/dataset` (with `action`) or a V1 path'),
    action: z.string().optional().describe('the V2 Action'),
    body: z.record(z.string(), z.unknown()).describe('the request body'),
  })
  .describe("where to read more: an operation of qfdata's API, called with a key of the event's account");

const common = {
  schemaVersion: z.literal(SCHEMA_VERSION).describe('the version of this detail schema'),
  eventId: z.string().regex(/^evt-[0-9a-f]{32}$/).describe('stable per transition: the same change always has this id; dedupe on it'),
  account: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).describe('the qfdata account the subject belongs to'),
};

export const DETAIL_SCHEMAS: Record<DetailType, z.ZodObject> = {
  [DETAIL_TYPES.importTask]: z
    .object({
      ...common,
      taskId: id('task-', 'the import task'),
      datasetId: id('dg-', 'the dataset'),
      versionId: id('ds-', 'the version imported into'),
      status: z.enum(['ImportFinished', 'ImportFailed']),
      sampleCount: count('samples stored'),
      annotatedCount: count('annotated samples stored'),
      characterCount: count('characters of the samples stored'),
      sizeBytes: count('bytes of the samples stored (normalised JSONL)'),
      errorCount: count('lines rejected (listed in the error report: DescribeImportTask errDownloadUrl)'),
      createdAt: iso('when the task was created'),
      startedAt: iso('when a worker first took it').optional(),
      finishedAt: iso('when it ended'),
      failureReason: z.string().optional().describe('why it failed (ImportFailed only)'),
      fetch,
    })
    .describe('An import task ended.'),
  [DETAIL_TYPES.exportTask]: z
    .object({
      ...common,
      taskId: id('task-', 'the export task'),
      datasetId: id('dg-', 'the dataset'),
      versionId: id('ds-', 'the version exported'),
      status: z.enum(['ExportFinished', 'ExportFailed']),
      exportType: z.union([z.literal(1), z.literal(2)]).describe('1: samples as JSONL; 2: the source files'),
      storageType: z.enum(['sysStorage', 'BOS']),
      storagePath: z.string().startsWith('bos:/').optional().describe("the archive on the account's own bucket (BOS exports that finished)"),
      sampleCount: count('samples in the archive').optional(),
      sizeBytes: count('bytes of the archive').optional(),
      scheduleId: id('sch-', 'the export schedule that started it').optional(),
      dueAt: iso('the due time of that schedule').optional(),
      createdAt: iso('when the task was created'),
      startedAt: iso('when a runner first took it').optional(),
      finishedAt: iso('when it ended'),
      failureReason: z.string().optional().describe('why it failed (ExportFailed only)'),
      fetch,
    })
    .describe('An export task ended; DescribeExportTask hands out the download URL.'),
  [DETAIL_TYPES.dataset]: z
    .object({
      ...common,
      datasetId: id('dg-', 'the dataset'),
      datasetName: z.string(),
      dataFormat: z.enum(DATA_FORMATS),
      storageType: z.enum(['sysStorage', 'BOS']),
      status: z.enum(['Created', 'Deleted']),
      versionIds: z.array(id('ds-', 'a version')).describe('Created: its first version; Deleted: every version deleted with it'),
      fetch: fetch.optional(),
    })
    .describe('A dataset was created (with its first version) or deleted (with its versions, which get no event of their own).'),
  [DETAIL_TYPES.version]: z
    .object({
      ...common,
      datasetId: id('dg-', 'the dataset'),
      versionId: id('ds-', 'the version'),
      versionNumber: z.number().int().min(1),
      status: z.enum(['Created', 'Published', 'Deleted']),
      sampleCount: count('samples of the version at the transition'),
      fetch: fetch.optional(),
    })
    .describe('A dataset version was created, published or deleted.'),
  [DETAIL_TYPES.samples]: z
    .object({
      ...common,
      datasetId: id('dg-', 'the dataset'),
      versionId: id('ds-', 'the version'),
      status: z.literal('SamplesChanged'),
      editRevision: z.number().int().min(1).describe("the version's sample-edit revision this change committed"),
      editedCount: count('samples annotated (content or labels replaced)'),
      deletedCount: count('samples deleted'),
      delta: z.object({ samples: z.number().int(), annotated: z.number().int(), characters: z.number().int(), bytes: z.number().int() }).describe('what the change added to the counters'),
      sampleCount: count('samples after the change'),
      annotatedCount: count('annotated samples after the change'),
      characterCount: count('characters after the change'),
      sizeBytes: count('bytes after the change'),
      fetch,
    })
    .describe("A change of a version's samples (the entity API's annotate or delete) committed."),
  [DETAIL_TYPES.schedule]: z
    .object({
      ...common,
      scheduleId: id('sch-', 'the export schedule'),
      datasetId: id('dg-', 'the dataset it exports'),
      versionId: id('ds-', 'the fixed version it exports').optional(),
      status: z.literal('Stopped'),
      stopReason: z.string(),
      fetch,
    })
    .describe('An export schedule stopped for good.'),
  [DETAIL_TYPES.importRule]: z
    .object({
      ...common,
      ruleId: z.string().regex(/^rule-[0-9a-z]{16}$/).describe('the import rule'),
      datasetId: id('dg-', 'the dataset it imports into'),
      versionId: id('ds-', 'the version the import goes to'),
      taskId: id('task-', 'the import task it started'),
      object: z.string().startsWith('bos:/').describe('the object that landed'),
      etag: z.string().describe("the object's ETag (with the key, what makes the import happen once)"),
      fetch,
    })
    .describe('An object landed under an import rule and started an import.'),
};

/** The file name of a detail-type's schema: `import-task-state-change.json`. */
export function schemaFileName(detailType: string): string {
  return `${detailType.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.json`;
}

/** The JSON Schema (draft 2020-12) of each detail-type, as written under docs/events/. */
export function eventJsonSchemas(): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(DETAIL_SCHEMAS).map(([detailType, schema]) => [
      schemaFileName(detailType),
      {
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        $id: `urn:qfdata:events:v${SCHEMA_VERSION}:${schemaFileName(detailType).replace(/\.json$/, '')}`,
        title: `${detailType} (detail, schemaVersion ${SCHEMA_VERSION})`,
        'x-qfdata-event': { source: 'qfdata', 'detail-type': detailType },
        ...(z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>),
      },
    ]),
  );
}

/** Writes the schemas into `dir` (docs/events/). */
export async function writeEventSchemas(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [file, schema] of Object.entries(eventJsonSchemas())) {
    await writeFile(path.join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
    written.push(file);
  }
  return written;
}

/** `npm run events:schemas` (npm runs it in the project's root). */
export async function main(): Promise<void> {
  const dir = path.resolve('docs/events');
  for (const file of await writeEventSchemas(dir)) process.stdout.write(`docs/events/${file}\n`);
}
