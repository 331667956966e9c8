/**
 * `POST /v2/dataset?Action=<Action>`: API Gateway cannot route on a query string, so this function's only job is
 * the Action → operation map. Every action is its own Middy-wrapped module, tested alone and invocable directly.
 * Actions of Qianfan's dataset family that qfdata does not implement yet answer `NotSupported`; anything else
 * answers `InvalidAction`. Both still pass authentication first, like every other request.
 */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { InvalidActionError, NotSupportedError } from '../../shared/errors.js';
import { defineOperation, httpHandler, type HttpHandler } from '../../shared/http/index.js';
import { handler as describeDatasets } from './describeDatasets.js';

const actions: Record<string, HttpHandler> = {
  DescribeDatasets: describeDatasets,
};

/** Qianfan's V2 dataset actions (spec §2) that qfdata does not serve yet. */
const NOT_YET = new Set([
  'CreateDataset',
  'DeleteDataset',
  'CreateDatasetVersion',
  'DescribeDatasetVersion',
  'DescribeDatasetVersions',
  'DeleteDatasetVersion',
  'PublishDatasetVersion',
  'CreateImportTask',
  'DescribeImportTask',
  'CreateExportTask',
  'DescribeExportTask',
]);

function refusal(action: string): HttpHandler {
  const printable = action.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
  return httpHandler(
    defineOperation({
      api: 'v2',
      name: printable || '(none)',
      input: z.unknown(),
      async run() {
        if (NOT_YET.has(action)) throw new NotSupportedError(`qfdata does not support the action ${printable} yet.`);
        throw new InvalidActionError(
          action === ''
            ? 'The query parameter Action is required, e.g. POST /v2/dataset?Action=DescribeDatasets.'
            : `${printable} is not an action of /v2/dataset.`,
        );
      },
    }),
  );
}

export function handler(event: APIGatewayProxyEventV2, context: Context) {
  const action = event.queryStringParameters?.Action ?? '';
  const target = Object.hasOwn(actions, action) ? actions[action]! : refusal(action);
  return target(event, context);
}
