/**
 * `POST /v2/accesskey?Action=RotateAccessKey` (a qfdata extension): a new key with the same account, policy and
 * description, answered with its secret (shown only now). The old key keeps working until it is disabled, so
 * clients can move over; the two keys name each other (`rotatedTo`, `rotatedFrom`). Another account's key answers
 * as a key that does not exist.
 */
import * as z from 'zod';
import { viewSettings } from '../../shared/datasets/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import { accessKeys } from '../../shared/keys/index.js';
import { accessKeyIdField, v2IssuedKey } from '../../shared/keys/views.js';

export const input = z.object({ accessKeyId: accessKeyIdField });

export const rotateAccessKey = defineOperation({
  api: 'v2',
  name: 'RotateAccessKey',
  needs: 'keys:Manage',
  input,
  async run(body, { caller }) {
    return v2IssuedKey(await accessKeys().rotate(caller, body.accessKeyId), viewSettings().timeZone);
  },
});

export const handler = httpHandler(rotateAccessKey);
