/**
 * File types and which data formats they can hold: what the API checks before an import task exists. This module
 * imports no reader (no exceljs, yauzl, tar-stream, csv-parse), so API functions can use it without bundling them.
 */
import type { DataFormat } from '../model.js';
import type { FileType } from './types.js';
import { TABULAR_COLUMNS } from './validate.js';

/** By extension (case-insensitive; .jsonl, .json, .txt, .csv, .xlsx, .zip, .tar.gz, .tgz); undefined if unsupported. */
export function fileTypeOf(name: string): FileType | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.jsonl')) return 'jsonl';
  if (lower.endsWith('.json')) return 'json';
  if (lower.endsWith('.txt')) return 'txt';
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.xlsx')) return 'xlsx';
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  return undefined;
}

/**
 * Whether a top-level file of this type can hold samples of this format: jsonl, json and the archives hold every
 * format; txt only Text and Prompt (one sample per line); csv and xlsx the formats whose one-turn sample is a flat
 * row of text columns (PromptResponse, DPO, KTO, Prompt, Text, SFT_FIM, PromptImage: see `TABULAR_COLUMNS`).
 */
export function supports(type: FileType, format: DataFormat): boolean {
  switch (type) {
    case 'jsonl':
    case 'json':
    case 'zip':
    case 'tar.gz':
      return true;
    case 'txt':
      return format === 'Text' || format === 'Prompt';
    case 'csv':
    case 'xlsx':
      return TABULAR_COLUMNS[format] !== undefined;
  }
}

