/**
 * `POST /v2/accesskey?Action=DisableAccessKey` (a qfdata extension): stops the key from signing requests.
 * Idempotent. The key that signs this request cannot disable itself, so an account always keeps a working key.
 * Other warm functions may accept the key for up to QFDATA_KEY_CACHE_SECONDS (60 s) more. Another account's key
 * answers as a key that does not exist.
 */
import * as z from 'zod';
import { viewSettings } from '../../shared/datasets/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import { accessKeys } from '../../shared/keys/index.js';
import { accessKeyIdField, v2AccessKey } from '../../shared/keys/views.js';

export const input = z.object({ accessKeyId: accessKeyIdField });

export const disableAccessKey = defineOperation({
  api: 'v2',
  name: 'DisableAccessKey',
  needs: 'keys:Manage',
  input,
  async run(body, { caller }) {
    const key = await accessKeys().disable(caller, body.accessKeyId);
    return v2AccessKey(key, viewSettings().timeZone);
  },
});

export const handler = httpHandler(disableAccessKey);
