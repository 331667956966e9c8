/**
 * `POST /_qfdata/reset` — local twin only (declared in serverless.local.yml). Clears all data, as moto's reset
 * does: every dataset of every account with its objects, tokens and tombstones. Access keys stay, so the
 * credentials a test suite uses keep working. No authentication, like moto's.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { config } from '../../shared/config.js';
import { datasets } from '../../shared/root.js';
import { log } from '../../shared/log.js';

export async function handler(): Promise<APIGatewayProxyStructuredResultV2> {
  if (!config().IS_OFFLINE) return { statusCode: 404, body: '' };
  await datasets().resetAll();
  log.info('local data reset');
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reset: true }) };
}
