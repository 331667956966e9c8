/**
 * zod schemas for fields several operations share, so each rule is written once.
 */
import * as z from 'zod';
import { parseBosPath } from '../objects/bos-path.js';
import { bucketNameProblem, storableKeyProblem } from '../objects/port.js';
import { ACCOUNT_NAME, DATA_FORMATS, type ExportDestination } from '../model.js';
import { BODY, PREFIX, type IdKind } from '../datasets/ids.js';
import { datasetDirProblem, exportDirProblem } from '../datasets/layout.js';

/** Control characters (C0 and DEL), which no free-text field may contain. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** `schema`, refusing strings with a control character. */
export function noControlCharacters(schema: z.ZodString): z.ZodString {
  return schema.refine((s) => !CONTROL_CHARACTERS.test(s), 'must not contain control characters');
}

/** A dataset name: trimmed, NFC-normalised, 1–128 characters, no control characters. */
export const datasetName = z
  .string()
  .max(512)
  .transform((s) => s.normalize('NFC').trim())
  .pipe(noControlCharacters(z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters')));

/** A BOS / S3 bucket name (the object port's rule). */
export const bucketName = z.string().superRefine((bucket, ctx) => {
  const problem = bucketNameProblem(bucket);
  if (problem) ctx.addIssue({ code: 'custom', message: `must be a bucket name: ${problem}` });
});

/** An account name (what `npm run root-key -- --account` makes). */
export const accountField = z.string().regex(ACCOUNT_NAME, 'must be an account name: 1-64 letters, digits, ".", "_" or "-"');

/** What a user-named directory is for: a dataset's storage, or an export's destination (their longest keys differ). */
export type DirectoryUse = 'dataset' | 'export';

/** Why a directory (`/dir/`, `/` for the root) cannot be used for `use`, or undefined. */
export function directoryProblem(dir: string, use: DirectoryUse): string | undefined {
  const key = dir.replace(/^\/+/, '');
  const keyProblem = key === '' ? undefined : storableKeyProblem(key);
  if (keyProblem) return keyProblem;
  return use === 'dataset' ? datasetDirProblem(dir) : exportDirProblem(dir);
}

export const dataFormat = z.enum(DATA_FORMATS);

/** The body of an id (`[0-9a-z]{16}`) as a pattern source, without anchors. */
const ID_BODY = BODY.source.replace(/^\^|\$$/g, '');

/**
 * An id of that kind (`dg-…` dataset, `ds-…` version, `task-…`, `sch-…` schedule). Malformed ids are refused here;
 * well-formed unknown ones are not found later.
 */
export function idField(kind: IdKind) {
  return z.string().regex(new RegExp(`^${PREFIX[kind]}${ID_BODY}$`), `must be a ${kind} id like ${PREFIX[kind]}0123456789abcdef`);
}

/**
 * V1 `datasetId`: the version's `ds-` string, or (deprecated, still accepted: seed 000) its legacy integer id.
 */
export const versionRef = z.union(
  [z.string().regex(new RegExp(`^(?:${PREFIX.version}${ID_BODY}|\\d{1,15})$`)), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)],
  { error: 'must be the version id string (ds-…) or its legacy integer id' },
);

/** V2 `exportType`: 1 (default) the samples, 2 the source files. */
export const exportTypeField = z.union([z.literal(1), z.literal(2)], { error: 'must be 1 (samples) or 2 (source files)' }).optional().default(1);

/**
 * The files of an import: one BOS directory or one or more BOS files, each a BOS path that parses
 * (`bos:/bucket/dir/file.jsonl`; the Python SDK's `bucket/dir/file.jsonl` without the scheme too). The output is the
 * paths with the scheme, so everything after the request sees one form.
 */
export const importFilesField = z
  .array(
    z
      .string()
      .min(1)
      .max(2048)
      .transform((path, ctx) => {
        const parsed = parseBosPath(path, { schemeOptional: true });
        if (!parsed.ok) {
          ctx.addIssue({ code: 'custom', message: parsed.problem });
          return z.NEVER;
        }
        return `bos:/${parsed.bucket}/${parsed.key}`;
      }),
  )
  .min(1, 'must list one directory or one or more files')
  .max(1000);

/**
 * `bos:/bucket/dir/` (a directory: the SDK appends the trailing slash) as the bucket and `/dir/`, or the problem: it
 * must parse as a BOS directory, and the keys qfdata will write under it for `use` must be storable.
 */
export function parseBosDirectory(path: string | null | undefined, use: DirectoryUse): { bucket: string; dir: string } | { problem: string } {
  const parsed = parseBosPath(path ?? '');
  if (!parsed.ok) return { problem: parsed.problem };
  if (!parsed.directory) return { problem: 'must be a directory like bos:/yourbucket/yourDir/ (ending in "/")' };
  const dir = `/${parsed.key}`;
  const problem = directoryProblem(dir, use);
  return problem ? { problem } : { bucket: parsed.bucket, dir };
}

/** The V2 storage destination fields; spread them into an object schema and wrap it in {@link withStorageDestination}. */
export const storageFields = {
  storageType: z.enum(['BOS', 'sysStorage']),
  storagePath: z.string().max(1024).nullish(),
};

interface StorageInput {
  storageType: 'BOS' | 'sysStorage';
  storagePath?: string | null | undefined;
}

/**
 * `schema` (an object with {@link storageFields}) checked and parsed once: `storageType` `BOS` needs a
 * `storagePath` like `bos:/bucket/dir/` that can hold what `use` writes there. The output has `destination` in
 * place of `storagePath`.
 */
export function withStorageDestination<T extends StorageInput>(schema: z.ZodType<T>, use: DirectoryUse) {
  return schema.transform((body, ctx): Omit<T, 'storagePath'> & { destination: ExportDestination } => {
    const { storagePath, ...rest } = body;
    if (body.storageType !== 'BOS') return { ...rest, destination: { kind: 'platform' } };
    if (!storagePath) {
      ctx.addIssue({ code: 'custom', path: ['storagePath'], message: 'is required with storageType BOS: a directory like bos:/yourbucket/yourDir/' });
      return z.NEVER;
    }
    const bos = parseBosDirectory(storagePath, use);
    if ('problem' in bos) {
      ctx.addIssue({ code: 'custom', path: ['storagePath'], message: bos.problem });
      return z.NEVER;
    }
    return { ...rest, destination: { kind: 'bos', ...bos } };
  });
}
