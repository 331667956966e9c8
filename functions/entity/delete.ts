/** V1 `POST /wenxinworkshop/entity/delete`: removes samples; `failedOnes` lists those the version does not hold (`null` when none). */
import { ENTITY } from '../../shared/api/registry.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { samples } from '../../shared/root.js';

export const deleteEntities = implement(ENTITY.delete, async (body, { caller }) => {
  const { failedOnes } = await samples().delete(caller, body.datasetId, body.id);
  return { failedOnes: failedOnes.length > 0 ? failedOnes : null };
});

export const handler = httpHandler(deleteEntities);
