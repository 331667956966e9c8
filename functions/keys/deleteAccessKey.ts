/**
 * `POST /v2/accesskey?Action=DeleteAccessKey` (a qfdata extension): removes a disabled key for good (disable it
 * first). Another account's key answers as a key that does not exist.
 */
import * as z from 'zod';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import { accessKeys } from '../../shared/keys/index.js';
import { accessKeyIdField } from '../../shared/keys/views.js';

export const input = z.object({ accessKeyId: accessKeyIdField });

export const deleteAccessKey = defineOperation({
  api: 'v2',
  name: 'DeleteAccessKey',
  needs: 'keys:Manage',
  input,
  async run(body, { caller }) {
    await accessKeys().delete(caller, body.accessKeyId);
    return true;
  },
});

export const handler = httpHandler(deleteAccessKey);
