/**
 * `POST /v2/bucket?Action=<Action>`: the bucket actions (a qfdata extension: buckets belong to accounts, see
 * shared/datasets/buckets.ts). API Gateway cannot route on a query string, so this function's only job is to run the
 * action's own module (`./<action>.ts`, each Middy-wrapped and tested alone), loaded the first time the action is
 * asked for; the actions are the registry's (`shared/api/operations`). Anything else answers `InvalidAction`, after
 * authentication like every other request.
 */
import { BUCKET } from '../../shared/api/registry.js';
import { ROUTES } from '../../shared/api/routes.js';
import { actionRouter } from '../../shared/http/index.js';

export const handler = actionRouter(ROUTES.bucket, BUCKET, (file) => import(`./${file}.ts`));
