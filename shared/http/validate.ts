/**
 * zod validation of the parsed body. The parsed value (defaults and coercions applied, unknown fields dropped, as
 * BCE ignores unknown fields) replaces the body; a failure names the first failing field.
 */
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import { InappropriateJSONError } from '../errors.js';
import { stateOf } from './state.js';

type Request = middy.Request<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export const INAPPROPRIATE_JSON = 'The JSON you provided was well-formed and valid, but not appropriate for this operation.';

/** `param[filter.dataFormatList.0] invalid: …` for the first issue, in Qianfan's wording. */
function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join('.') || '(body)';
  return `${INAPPROPRIATE_JSON} param[${path}] invalid: ${issue.message}`;
}

export function validateInput(schema: z.ZodType, value: unknown): unknown {
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    throw new InappropriateJSONError(first ? describeIssue(first) : INAPPROPRIATE_JSON, { cause: result.error });
  }
  return result.data;
}

export function validate(schema: z.ZodType): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const validateBefore = (request: Request): void => {
    const state = stateOf(request.event);
    state.input = validateInput(schema, state.body);
  };
  return { before: validateBefore };
}
