/**
 * zod schemas for fields several operations share, so each rule is written once.
 */
import * as z from 'zod';
import { DATA_FORMATS } from './formats.js';

const CONTROL = /[\u0000-\u001f\u007f]/;

/** A dataset name: trimmed, NFC-normalised, 1–128 characters, no control characters. */
export const datasetName = z
  .string()
  .max(512)
  .transform((s) => s.normalize('NFC').trim())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(128, 'must be at most 128 characters')
      .refine((s) => !CONTROL.test(s), 'must not contain control characters'),
  );

/** A BOS / S3 bucket name. */
export const bucketName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a bucket name: 3–63 lowercase letters, digits, "-" or "."');

export const dataFormat = z.enum(DATA_FORMATS);

/**
 * V1 `datasetId`: the version's `ds-` string, or (deprecated, still accepted: seed 000) its legacy integer id.
 */
export const versionRef = z.union(
  [z.string().regex(/^(?:ds-[0-9a-z]{16}|\d{1,15})$/), z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)],
  { error: 'must be the version id string (ds-…) or its legacy integer id' },
);

/** A V2 dataset id (`dg-…`). Malformed ids are refused here; well-formed unknown ones are not found later. */
export const datasetIdField = z.string().regex(/^dg-[0-9a-z]{16}$/, 'must be a dataset id like dg-0123456789abcdef');

/** A V2 version id (`ds-…`). */
export const versionIdField = z.string().regex(/^ds-[0-9a-z]{16}$/, 'must be a version id like ds-0123456789abcdef');

/** `bos:/bucket/dir/` (a directory: the SDK appends the trailing slash): the bucket and `/dir/`, or undefined. */
export function parseBosDirectory(path: string | null | undefined): { bucket: string; dir: string } | undefined {
  const m = /^bos:\/([^/]+)(\/(?:[^/]+\/)*)$/.exec(path ?? '');
  if (!m || !bucketName.safeParse(m[1]).success) return undefined;
  return { bucket: m[1]!, dir: m[2]! };
}
