/**
 * BOS paths as Qianfan's API and SDKs write them: `bos:/<bucket>/<key>`, a directory when the key is empty (the
 * bucket's root, `bos:/bucket/`) or ends in `/`. The one grammar of the house: the request schemas, the services and
 * the CLI all parse through {@link parseBosPath}, and a path parses only if its bucket is a valid name and its key
 * one qfdata may write ({@link storableKeyProblem}), so nothing that would fail later in a store gets past a request.
 *
 * The Python SDK's `create_from_bos_file` sends `bucket/dir/file.jsonl` without the scheme (bce-qianfan-sdk
 * `python/qianfan/dataset/data_source/baidu_qianfan.py`); `{ schemeOptional: true }` accepts that form too.
 */
import { bucketNameProblem, storableKeyProblem } from './port.js';

export interface BosPath {
  bucket: string;
  /** The key, or the directory prefix (`''` for the bucket's root, else ending in `/`). */
  key: string;
  directory: boolean;
}

export type ParsedBosPath = ({ ok: true } & BosPath) | { ok: false; problem: string };

/**
 * Parses `bos:/bucket/key`. A problem is a predicate of the whole path ("is not a BOS path: …", "names the bucket
 * …"), so a message can put the path, or the request field that held it, in front of it.
 */
export function parseBosPath(text: string, options: { schemeOptional?: boolean } = {}): ParsedBosPath {
  const hasScheme = text.startsWith('bos:/');
  if (!hasScheme && (!options.schemeOptional || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(text))) {
    return { ok: false, problem: 'is not a BOS path: use bos:/bucket/dir/file.jsonl for a file or bos:/bucket/dir/ for a directory' };
  }
  const rest = hasScheme ? text.slice('bos:/'.length) : text;
  const slash = rest.indexOf('/');
  if (slash < 0) return { ok: false, problem: 'names no object or directory inside the bucket: a bucket alone is written bos:/bucket/' };
  const bucket = rest.slice(0, slash);
  const key = rest.slice(slash + 1);
  if (bucket === '') return { ok: false, problem: 'is not a BOS path: write one "/" after "bos:", like bos:/bucket/dir/' };
  const bucketProblem = bucketNameProblem(bucket);
  if (bucketProblem) return { ok: false, problem: `names the bucket ${JSON.stringify(bucket.slice(0, 80))}, which is not a bucket name: ${bucketProblem}` };
  if (key !== '') {
    const keyProblem = storableKeyProblem(key);
    if (keyProblem) return { ok: false, problem: `names an object key qfdata cannot use: ${keyProblem}` };
  }
  return { ok: true, bucket, key, directory: key === '' || key.endsWith('/') };
}

/** `bos:/bucket/key` for a bucket and key (or directory prefix). */
export function formatBosPath(bucket: string, key: string): string {
  return `bos:/${bucket}/${key}`;
}
