/**
 * `POST /v2/accesskey?Action=DeleteAccessKey` (a qfdata extension): removes a disabled key for good (disable it
 * first). Another account's key answers as a key that does not exist.
 */
import { httpHandler, implement } from '../../shared/http/index.js';
import { ACCESS_KEY } from '../../shared/api/registry.js';
import { accessKeys } from '../../shared/root.js';

export const deleteAccessKey = implement(ACCESS_KEY.DeleteAccessKey, async (body, { caller }) => {
  await accessKeys().delete(caller, body.accessKeyId);
  return true;
});

export const handler = httpHandler(deleteAccessKey);
