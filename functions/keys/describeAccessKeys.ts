/**
 * `POST /v2/accesskey?Action=DescribeAccessKeys` (a qfdata extension): every access key of the caller's account,
 * oldest first, enabled or not. Secrets are never part of it.
 */
import * as z from 'zod';
import { viewSettings } from '../../shared/datasets/index.js';
import { defineOperation, httpHandler } from '../../shared/http/index.js';
import { accessKeys } from '../../shared/keys/index.js';
import { v2AccessKey } from '../../shared/keys/views.js';

export const input = z.object({});

export const describeAccessKeys = defineOperation({
  api: 'v2',
  name: 'DescribeAccessKeys',
  needs: 'keys:Manage',
  input,
  async run(_body, { caller }) {
    const { timeZone } = viewSettings();
    return { accessKeys: (await accessKeys().list(caller)).map((k) => v2AccessKey(k, timeZone)) };
  },
});

export const handler = httpHandler(describeAccessKeys);
