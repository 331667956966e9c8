/**
 * `POST /v2/accesskey?Action=DescribeAccessKeys` (a qfdata extension): every access key of the caller's account,
 * oldest first, enabled or not. Secrets are never part of it.
 */
import { viewSettings } from '../../shared/root.js';
import { httpHandler, implement } from '../../shared/http/index.js';
import { ACCESS_KEY } from '../../shared/api/registry.js';
import { accessKeys } from '../../shared/root.js';
import { v2AccessKey } from '../../shared/api/key-views.js';

export const describeAccessKeys = implement(ACCESS_KEY.DescribeAccessKeys, async (_body, { caller }) => {
  const { timeZone } = viewSettings();
  return { accessKeys: (await accessKeys().list(caller)).map((k) => v2AccessKey(k, timeZone)) };
});

export const handler = httpHandler(describeAccessKeys);
