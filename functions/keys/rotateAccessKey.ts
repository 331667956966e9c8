/**
 * `POST /v2/accesskey?Action=RotateAccessKey` (a qfdata extension): a new key with the same account, policy and
 * description, answered with its secret (shown only now). The old key keeps working until it is disabled, so
 * clients can move over; the two keys name each other (`rotatedTo`, `rotatedFrom`). Another account's key answers
 * as a key that does not exist.
 */
import { viewSettings } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { ACCESS_KEY } from '../../shared/api/registry.js';
import { accessKeys } from '../../shared/root.js';
import { v2IssuedKey } from '../../shared/api/key-views.js';

export const rotateAccessKey = implement(ACCESS_KEY.RotateAccessKey, async (body, { caller }) => {
  return v2IssuedKey(await accessKeys().rotate(caller, body.accessKeyId), viewSettings().timeZone);
});

export const handler = httpHandler(rotateAccessKey);
