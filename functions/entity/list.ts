/**
 * V1 `POST /wenxinworkshop/entity/list`: one page of a version's samples (the Python SDK's `Dataset.load(…).list()`
 * and `qianfan dataset view` read it, then GET each item's `url`).
 */
import { ENTITY } from '../../shared/api/registry.js';
import { v1Entity } from '../../shared/api/views.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { samples, viewSettings } from '../../shared/root.js';

export const list = implement(ENTITY.list, async (body, { caller }) => {
  const { datasetId, ...query } = body;
  const page = await samples().list(caller, datasetId, query);
  return { totalAll: page.totalAll, total: page.total, items: page.items.map((s) => v1Entity(s, viewSettings())) };
});

export const handler = httpHandler(list);
