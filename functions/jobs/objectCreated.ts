/**
 * Objects that land start imports (import rules, `shared/datasets/rules.ts`): the target of an EventBridge rule on
 * S3's `Object Created` events in the cloud (turn on a bucket's EventBridge notifications to feed it); locally, the
 * twin's BOS endpoint invokes it with the same event when an object is written through it. Each matching rule of
 * any account that may use the bucket starts one import per object version, however often the event repeats.
 */
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { rules } from '../../shared/root.js';
import { describeCause, endInvocation, log, startInvocation } from '../../shared/log.js';

/** The part of S3's EventBridge event this reads (`detail.object.key` is the key as stored, not URL-encoded). */
const objectCreated = z.object({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: z.object({ bucket: z.object({ name: z.string().min(1) }), object: z.object({ key: z.string().min(1) }) }),
});

export async function handler(event: unknown, context?: Context): Promise<{ fired: number; skipped: number }> {
  startInvocation(context);
  try {
    const parsed = objectCreated.safeParse(event);
    if (!parsed.success) {
      // Not an object-created event: nothing to do, and retrying cannot help.
      log.warn('objectCreated: not an S3 Object Created event; ignored', { problems: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) });
      return { fired: 0, skipped: 0 };
    }
    const object = { bucket: parsed.data.detail.bucket.name, key: parsed.data.detail.object.key };
    const outcomes = await rules().fire(object);
    const fired = outcomes.filter((o) => 'taskId' in o).length;
    if (outcomes.length > 0) log.info('object created', { ...object, fired, skipped: outcomes.length - fired });
    return { fired, skipped: outcomes.length - fired };
  } catch (error) {
    // A store outage: throw, so EventBridge retries the event (the sweep would find the object anyway).
    log.error('objectCreated failed', describeCause(error));
    throw error;
  } finally {
    endInvocation();
  }
}
