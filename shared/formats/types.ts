/**
 * The public types of `shared/formats` and the limits every reader shares. Kept apart from `index.ts` so that the
 * readers can import them without importing the dispatcher.
 */
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { DataFormat } from '../model.js';

/** A file to import. `open()` may be called several times (a resumed import re-reads from the start). */
export interface SourceFile {
  name: string;
  size?: number;
  open(): Promise<Readable>;
  /**
   * The file as a local file open for random access, if it is one (the caller closes it): a zip or an xlsx is then
   * read in place instead of being spooled to a temporary file first. Absent or `undefined`: it is spooled.
   */
  openFile?(): Promise<FileHandle | undefined>;
}

export type FileType = 'jsonl' | 'json' | 'txt' | 'csv' | 'xlsx' | 'zip' | 'tar.gz';

/**
 * One thing a reader found in a file.
 * - `sample`: a normalised sample (see `validate.ts`), with its character count and whether it is annotated.
 * - `error`: a line (element, row, archive entry) that was refused; reading goes on. `line` 0 means the whole file
 *   or archive entry (an empty file, a nested archive…).
 * - `notice`: something the reader changed but accepted (turns truncated); the sample itself follows.
 * - `asset`: an image inside an archive, for the image formats. Its `open()` is valid until the iterator is advanced
 *   (tar.gz: the entry is read from the archive stream, at most once; zip: any number of times).
 */
export type ImportRecord =
  /**
   * `text`, when present, is the sample's own JSON text from the file (one line, no line breaks), equal in value
   * to `sample`: a writer can store it as is instead of serialising `sample` again. `bytes`, when present, is that
   * text's UTF-8 bytes as read (a view of the chunk read; JSON Lines): a writer copies them instead of encoding
   * `text` again.
   */
  | { kind: 'sample'; file: string; line: number; sample: unknown; characters: number; annotated: boolean; text?: string; bytes?: Buffer }
  | { kind: 'error'; file: string; line: number; code: number; reason: string }
  | { kind: 'notice'; file: string; line: number; code: number; reason: string }
  | { kind: 'asset'; file: string; path: string; size: number; open(): Promise<Readable> };

/**
 * Thrown (from the iterator) when a file cannot be read at all: not UTF-8 text, corrupt or hostile archive, over a
 * limit, unsupported type. `code` is a V1 import error code (spec §7.2): 1 too large, 2 missing data file,
 * 3 format error, 6 illegal characters, 9 format mismatch, 10 archive extraction failed.
 */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';
  constructor(
    readonly file: string,
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface ReadLimits {
  /** Default 8 MiB: a longer line is an 'error' record (code 1), reading goes on. */
  maxLineBytes?: number;
  /** Default 10_000. */
  maxArchiveEntries?: number;
  /** Default 5 GiB across an archive, counted on ACTUAL inflated bytes. */
  maxUncompressedBytes?: number;
  /** Default 100 (per entry, only for entries whose inflated size > 100 KiB). */
  maxCompressionRatio?: number;
  /** Default 150. */
  maxTurns?: number;
  /** Default 1_048_576. */
  maxXlsxRows?: number;
}

export type Limits = Required<ReadLimits>;

/** Readers yield the records of one chunk (or row) at a time; `readRecords` hands them out one by one. */
export type Batch = ImportRecord[];

export const DEFAULT_LIMITS: Limits = {
  maxLineBytes: 8 * 1024 * 1024,
  maxArchiveEntries: 10_000,
  maxUncompressedBytes: 5 * 1024 * 1024 * 1024,
  maxCompressionRatio: 100,
  maxTurns: 150,
  maxXlsxRows: 1_048_576,
};

export function resolveLimits(limits: ReadLimits | undefined): Limits {
  const out = { ...DEFAULT_LIMITS };
  if (limits) {
    for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
      const value = limits[key];
      if (value !== undefined) {
        if (!(typeof value === 'number' && value > 0)) throw new TypeError(`ReadLimits.${key} must be a positive number`);
        out[key] = value;
      }
    }
  }
  return out;
}

/** Entries smaller than this are not checked against the compression-ratio cap (as Apache POI). */
export const RATIO_MIN_BYTES = 100 * 1024;
/** Images larger than this are refused (Qianfan: images ≤ 100 MB each). */
export const MAX_IMAGE_BYTES = 100 * 1024 * 1024;
/** `xl/sharedStrings.xml` is held in memory by the xlsx reader: its inflated size is capped. */
export const MAX_XLSX_SHARED_STRINGS_BYTES = 128 * 1024 * 1024;
/** Excel's own cap on the text of one cell. */
export const MAX_XLSX_CELL_CHARS = 32_767;
/** How much of a text file is looked at to tell binary content from text. */
export const SNIFF_BYTES = 1024;

/** V1 import error codes used by the readers (spec §7.2). */
export const CODE = {
  tooLarge: 1,
  missingDataFile: 2,
  formatError: 3,
  illegalCharacters: 6,
  mismatch: 9,
  archive: 10,
  empty: 13,
} as const;

/** What a reader of one data file (top-level or inside an archive) is given. */
export interface DataContext {
  /** Display name: the file's name, or `<archive>!<entry path>`. */
  file: string;
  format: DataFormat;
  limits: Limits;
  /** Image lookup of the enclosing archive; absent outside an archive. */
  images?: ImageResolver;
  /** For a `<name>.json` inside an archive: the path of an image `<name>.<ext>` beside it (V1 text-to-image layout). */
  siblingImage?: string;
}

/** Resolves an image path written in a sample against the entries of the enclosing archive. */
export interface ImageResolver {
  /** The archive-root path of the image, or why it cannot be used. */
  resolve(path: string): { path: string } | { reason: string };
}

/** What the readers are given: the chunks of a byte stream (`toBuffer` in `../bytes.ts` turns one into a Buffer). */
export type { Chunk } from '../bytes.js';

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
