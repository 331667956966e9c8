/** V1 `POST /wenxinworkshop/entity/annotate`: sets a sample's content (a conversation's responses) or its labels. */
import { ENTITY } from '../../shared/api/registry.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { samples } from '../../shared/root.js';

export const annotate = implement(ENTITY.annotate, async (body, { caller }) => {
  await samples().annotate(caller, body.datasetId, body.id, { ...(body.content !== undefined ? { content: body.content } : {}), ...(body.labels ? { labels: body.labels } : {}) });
  return true as const;
});

export const handler = httpHandler(annotate);
