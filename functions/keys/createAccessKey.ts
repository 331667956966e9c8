/**
 * `POST /v2/accesskey?Action=CreateAccessKey` (a qfdata extension): a new access key of the caller's account with
 * the policy given (QianfanFullControlAccessPolicy when none is). The answer holds `secretAccessKey`: the only
 * time it is ever shown. `clientToken` is not honoured here: a retry must not hand the secret out a second time.
 */
import * as z from 'zod';
import { viewSettings } from '../../shared/datasets/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import { accessKeys } from '../../shared/keys/index.js';
import { keyDescriptionField, policyField, v2IssuedKey } from '../../shared/keys/views.js';

export const input = z.object({
  policy: policyField.optional(),
  description: keyDescriptionField.optional(),
});

export const createAccessKey = defineOperation({
  api: 'v2',
  name: 'CreateAccessKey',
  needs: 'keys:Manage',
  input,
  async run(body, { caller }) {
    const issued = await accessKeys().create(caller, {
      ...(body.policy ? { policy: body.policy } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
    });
    return v2IssuedKey(issued, viewSettings().timeZone);
  },
});

export const handler = httpHandler(createAccessKey);
