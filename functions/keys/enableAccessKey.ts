/**
 * `POST /v2/accesskey?Action=EnableAccessKey` (a qfdata extension): lets a disabled key sign requests again.
 * Idempotent. Another account's key answers as a key that does not exist.
 */
import * as z from 'zod';
import { viewSettings } from '../../shared/datasets/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import { accessKeys } from '../../shared/keys/index.js';
import { accessKeyIdField, v2AccessKey } from '../../shared/keys/views.js';

export const input = z.object({ accessKeyId: accessKeyIdField });

export const enableAccessKey = defineOperation({
  api: 'v2',
  name: 'EnableAccessKey',
  needs: 'keys:Manage',
  input,
  async run(body, { caller }) {
    const key = await accessKeys().enable(caller, body.accessKeyId);
    return v2AccessKey(key, viewSettings().timeZone);
  },
});

export const handler = httpHandler(enableAccessKey);
