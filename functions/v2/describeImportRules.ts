/** V2 `DescribeImportRules` (a qfdata extension): one page of the caller's import rules, oldest first (or reversed). */
import { rules } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';
import { v2ImportRule } from '../../shared/api/operations/dataset.js';

export const describeImportRules = implement(DATASET.DescribeImportRules, async (body, { caller }) => {
  const { pageInfo, rules: page } = await rules().list(caller, body);
  return { pageInfo, rules: page.map(v2ImportRule) };
});

export const handler = httpHandler(describeImportRules);
