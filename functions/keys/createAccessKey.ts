/**
 * `POST /v2/accesskey?Action=CreateAccessKey` (a qfdata extension): a new access key of the caller's account with
 * the policy given (QianfanFullControlAccessPolicy when none is). The answer holds `secretAccessKey`: the only
 * time it is ever shown. `clientToken` is not honoured here: a retry must not hand the secret out a second time.
 */
import { viewSettings } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { ACCESS_KEY } from '../../shared/api/registry.js';
import { accessKeys } from '../../shared/root.js';
import { v2IssuedKey } from '../../shared/api/key-views.js';

export const createAccessKey = implement(ACCESS_KEY.CreateAccessKey, async (body, { caller }) => {
  const issued = await accessKeys().create(caller, {
    ...(body.policy ? { policy: body.policy } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
  });
  return v2IssuedKey(issued, viewSettings().timeZone);
});

export const handler = httpHandler(createAccessKey);
