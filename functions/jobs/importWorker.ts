/**
 * The import worker, driven by the import queue: SQS in the cloud (with a dead-letter queue), serverless-offline's
 * Lambda Invoke locally. Each message names one task; a run claims it, imports from its checkpoint and finishes,
 * fails it, or hands off to a continuation before the function's time runs out. A message whose run throws is
 * reported as a batch item failure, so SQS retries it (and, after the queue's limit, parks it in the DLQ); the
 * scheduled sweep restarts any task whose lease expired in the meantime.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { imports } from '../../shared/root.js';
import { runImport } from '../../shared/datasets/importWorker.js';
import { describeCause, endInvocation, log, startInvocation } from '../../shared/log.js';

const message = z.object({ account: z.string().min(1), taskId: z.string().min(1) });

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records ?? []) {
    startInvocation(context, { correlationId: record.messageId });
    const started = performance.now();
    let parsed: z.infer<typeof message>;
    try {
      parsed = message.parse(JSON.parse(record.body));
    } catch (error) {
      // A message that can never be processed: drop it (retrying cannot help) and say so.
      log.error('import worker: malformed message dropped', { messageId: record.messageId, ...describeCause(error) });
      endInvocation();
      continue;
    }
    try {
      const outcome = await runImport(imports(), parsed, { remainingMs: () => context.getRemainingTimeInMillis?.() ?? 900_000 });
      log.info('import run', { ...parsed, outcome, durationMs: Math.round(performance.now() - started) });
    } catch (error) {
      log.error('import run failed; it will be retried', { ...parsed, ...describeCause(error) });
      batchItemFailures.push({ itemIdentifier: record.messageId });
    } finally {
      endInvocation();
    }
  }
  return { batchItemFailures };
}
