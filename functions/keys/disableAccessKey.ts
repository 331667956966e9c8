/**
 * `POST /v2/accesskey?Action=DisableAccessKey` (a qfdata extension): stops the key from signing requests.
 * Idempotent. The key that signs this request cannot disable itself, so an account always keeps a working key.
 * Other warm functions may accept the key for up to QFDATA_KEY_CACHE_SECONDS (60 s) more. Another account's key
 * answers as a key that does not exist.
 */
import { viewSettings } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { ACCESS_KEY } from '../../shared/api/registry.js';
import { accessKeys } from '../../shared/root.js';
import { v2AccessKey } from '../../shared/api/key-views.js';

export const disableAccessKey = implement(ACCESS_KEY.DisableAccessKey, async (body, { caller }) => {
  const key = await accessKeys().disable(caller, body.accessKeyId);
  return v2AccessKey(key, viewSettings().timeZone);
});

export const handler = httpHandler(disableAccessKey);
