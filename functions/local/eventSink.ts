/**
 * The local twin's example subscriber (declared for the `local` stage only, in serverless.yml's
 * `params.local.localEventFunctions`): subscribed to every qfdata event on the bus, it logs each one it receives
 * and appends it, with the time it arrived (`receivedAt`, epoch ms), to `<data dir>/events/received.jsonl`. It is
 * what a pipeline's own function looks like, and how the tests and the bench see that an event reached a subscriber.
 */
import { config } from '../../shared/config.js';
import { appendLines, localEventLogFile, type EventEnvelope } from '../../shared/events/publisher.js';
import { log } from '../../shared/log.js';

/** Where the sink keeps what it received, beside the event log. */
export function receivedFile(dataDir: string): string {
  return localEventLogFile(dataDir).replace(/events\.jsonl$/, 'received.jsonl');
}

export async function handler(event: EventEnvelope): Promise<void> {
  const receivedAt = Date.now();
  const c = config();
  if (!c.IS_OFFLINE) return;
  log.info('event received', { detailType: event['detail-type'], eventId: event.detail?.eventId, account: event.detail?.account });
  await appendLines(receivedFile(c.QFDATA_DATA_DIR), `${JSON.stringify({ receivedAt, event })}\n`);
}
