/** V2 `DescribeImportRule` (a qfdata extension): one of the caller's import rules. */
import { rules } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';
import { v2ImportRule } from '../../shared/api/operations/dataset.js';

export const describeImportRule = implement(DATASET.DescribeImportRule, async (body, { caller }) => v2ImportRule(await rules().get(caller, body.ruleId)));

export const handler = httpHandler(describeImportRule);
