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
