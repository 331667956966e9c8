/**
 * `POST /v2/dataset?Action=<Action>`: the V2 dataset actions. API Gateway cannot route on a query string, so this
 * function's only job is to run the action's own module (`./<action>.ts`, each Middy-wrapped and tested alone),
 * loaded the first time the action is asked for; the actions are the registry's (`shared/api/operations`). Anything
 * else answers `InvalidAction`, after authentication like every other request.
 */
import { DATASET } from '../../shared/api/registry.js';
import { ROUTES } from '../../shared/api/routes.js';
import { actionRouter } from '../../shared/http/index.js';

export const handler = actionRouter(ROUTES.dataset, DATASET, (file) => import(`./${file}.ts`));
