/**
 * Our own JSON body parser (middy's answers 415 where Qianfan answers `MalformedJSON` 400). Any content type is
 * read as JSON, an empty body is `{}`, and the body must be a JSON object.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InappropriateJSONError, MalformedJSONError } from '../errors.js';
import { stateOf } from './state.js';
import { INAPPROPRIATE_JSON } from './validate.js';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/** The body exactly as the client sent it. */
export function rawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
}

function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new MalformedJSONError(undefined, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InappropriateJSONError(`${INAPPROPRIATE_JSON} The body must be a JSON object.`);
  }
  return value as Record<string, unknown>;
}

export function jsonBody(): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const jsonBodyBefore = (request: Request): void => {
    const text = rawBody(request.event).toString('utf8');
    stateOf(request.event).body = parseJsonObject(text);
  };
  return { before: jsonBodyBefore };
}
