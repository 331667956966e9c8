/**
 * `POST /v2/accesskey?Action=EnableAccessKey` (a qfdata extension): lets a disabled key sign requests again.
 * Idempotent. Another account's key answers as a key that does not exist.
 */
import { viewSettings } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { ACCESS_KEY } from '../../shared/api/registry.js';
import { accessKeys } from '../../shared/root.js';
import { v2AccessKey } from '../../shared/api/key-views.js';

export const enableAccessKey = implement(ACCESS_KEY.EnableAccessKey, async (body, { caller }) => {
  const key = await accessKeys().enable(caller, body.accessKeyId);
  return v2AccessKey(key, viewSettings().timeZone);
});

export const handler = httpHandler(enableAccessKey);
