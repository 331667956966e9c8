/** V2 `DeleteImportRule` (a qfdata extension): objects that land afterwards start nothing; started imports go on. */
import { rules } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { DATASET } from '../../shared/api/registry.js';

export const deleteImportRule = implement(DATASET.DeleteImportRule, async (body, { caller }) => {
  await rules().delete(caller, body.ruleId);
  return true;
});

export const handler = httpHandler(deleteImportRule);
