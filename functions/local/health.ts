/**
 * `GET /_qfdata/health` — local twin only (declared in serverless.local.yml, which only the `local` stage loads).
 * Answers 200 when the metadata store answers, 503 otherwise. No authentication, like moto's and LocalStack's.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { config } from '../../shared/config.js';
import { describeCause, log } from '../../shared/log.js';
import { metadataStore } from '../../shared/root.js';

export async function handler(): Promise<APIGatewayProxyStructuredResultV2> {
  if (!config().IS_OFFLINE) return { statusCode: 404, body: '' };
  try {
    await metadataStore().getAccessKey('health-probe');
    return json(200, { status: 'ok', service: 'qfdata' });
  } catch (error) {
    log.error('health check failed', describeCause(error));
    return json(503, { status: 'unavailable', service: 'qfdata' });
  }
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
