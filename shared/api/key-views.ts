/**
 * The wire shapes of access keys. A key's secret appears in exactly one place, {@link v2IssuedKey}: the answer to
 * the create or rotate that made it.
 */
import * as z from 'zod';
import { noControlCharacters } from './fields.js';
import { wallClock } from './time.js';
import type { AccessKeyRecord } from '../model.js';
import { POLICY_NAMES, type PolicyName } from '../keys/policies.js';
import type { IssuedKey } from '../keys/service.js';

/** An access key id as qfdata hands them out (32 hex) or as operators named them: URL- and header-safe. */
export const accessKeyIdField = z.string().regex(/^[A-Za-z0-9._~-]{1,128}$/, 'must be an access key id: 1–128 letters, digits, ".", "_", "~" or "-"');

export const policyField = z.enum(POLICY_NAMES as [PolicyName, ...PolicyName[]]);

export const keyDescriptionField = noControlCharacters(z.string().max(256, 'must be at most 256 characters'));

export function v2AccessKey(record: AccessKeyRecord, timeZone: string) {
  return {
    accessKeyId: record.accessKeyId,
    policy: record.policy,
    enabled: record.enabled,
    description: record.description,
    createTime: wallClock(new Date(record.createdAt), timeZone),
    disableTime: record.disabledAt && !record.enabled ? wallClock(new Date(record.disabledAt), timeZone) : '',
    rotatedFrom: record.rotatedFrom ?? '',
    rotatedTo: record.rotatedTo ?? '',
  };
}

export function v2IssuedKey(issued: IssuedKey, timeZone: string) {
  return { ...v2AccessKey(issued.record, timeZone), secretAccessKey: issued.secretAccessKey };
}
