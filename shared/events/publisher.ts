/**
 * Where published events go: the publisher port and its adapters.
 *
 * - {@link EventBridgePublisher}: the stack's own EventBridge bus in the cloud (`PutEvents`, through the light AWS
 *   JSON client of `shared/store/aws-json.ts`, loaded at the first publish so an API function's cold start does not
 *   pay for it). Each function that publishes may only `events:PutEvents` on that bus.
 * - {@link LocalEventLog}: the local twin. Every event is appended, as the EventBridge event a subscriber receives,
 *   to one JSONL file under the data directory (`<data dir>/events/events.jsonl`); the launcher's dispatcher
 *   (`./dispatcher.ts`) delivers each line to the functions serverless.yml subscribes to it, and `qfdata events tail`
 *   follows the file.
 *
 * Both deliver the same envelope: `{version, id, detail-type, source, account, time, region, resources, detail}`.
 * `account` there is the AWS account of the bus (`000000000000` locally); qfdata's own account is
 * `detail.account`. Who may read the bus: whoever the deployment's account lets subscribe rules to it, which is an
 * operator's decision: the bus carries every qfdata account's events, as a bus does (see docs/events/README.md).
 */
import { randomUUID } from 'node:crypto';
import { lazy } from '../lazy.js';
import type { OutboxEvent } from '../model.js';
import { EVENT_SOURCE } from './catalog.js';

export interface EventPublisher {
  /** Publishes the events (at least once); throws if any of them could not be published. */
  publish(events: readonly OutboxEvent[]): Promise<void>;
}

/** An event as a subscriber receives it (EventBridge's event structure). */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

/** The envelope of an event as delivered at `region` (locally: account `000000000000`). */
export function envelopeOf(event: OutboxEvent, region: string, awsAccount = '000000000000'): EventEnvelope {
  return { version: '0', id: randomUUID(), 'detail-type': event.detailType, source: EVENT_SOURCE, account: awsAccount, time: event.time, region, resources: [], detail: event.detail };
}

/** PutEvents takes at most 10 entries (and 256 KB) a call. */
const PUT_EVENTS_BATCH = 10;

/** The stack's EventBridge bus. */
export class EventBridgePublisher implements EventPublisher {
  readonly #client: () => Promise<{ call: (operation: string, input: unknown) => Promise<Record<string, unknown>> }>;
  readonly #bus: string;

  constructor(options: { bus: string; region: string; endpoint?: string }) {
    this.#bus = options.bus;
    this.#client = lazy(async () => {
      const { AwsJsonClient } = await import('../store/aws-json.js');
      return new AwsJsonClient({ service: 'events', targetPrefix: 'AWSEvents', jsonVersion: '1.1', region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
    });
  }

  async publish(events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    const client = await this.#client();
    for (let i = 0; i < events.length; i += PUT_EVENTS_BATCH) {
      const batch = events.slice(i, i + PUT_EVENTS_BATCH);
      const out = (await client.call('PutEvents', {
        Entries: batch.map((e) => ({
          EventBusName: this.#bus,
          Source: EVENT_SOURCE,
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
          Time: Math.floor(Date.parse(e.time) / 1000),
        })),
      })) as { FailedEntryCount?: number; Entries?: { ErrorCode?: string; ErrorMessage?: string }[] };
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).find((entry) => entry.ErrorCode);
        throw new Error(`EventBridge refused ${out.FailedEntryCount} of ${batch.length} events: ${failed?.ErrorCode ?? 'unknown'} ${failed?.ErrorMessage ?? ''}`.trim());
      }
    }
  }
}

/** The local twin's event log: one JSONL line per event, appended. */
export class LocalEventLog implements EventPublisher {
  constructor(private readonly options: { file: string; region: string }) {}

  get file(): string {
    return this.options.file;
  }

  async publish(events: readonly OutboxEvent[]): Promise<void> {
    if (events.length === 0) return;
    const lines = events.map((e) => JSON.stringify(envelopeOf(e, this.options.region))).join('\n') + '\n';
    await appendLines(this.options.file, lines);
  }
}

/**
 * Appends whole lines to a file with one `write` (O_APPEND), so that lines written by several processes at once
 * never interleave; makes its directory on first use.
 */
export async function appendLines(file: string, lines: string): Promise<void> {
  const { appendFile, mkdir } = await import('node:fs/promises');
  const path = await import('node:path');
  try {
    await appendFile(file, lines, { encoding: 'utf8', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(path.dirname(file), { recursive: true });
    await appendFile(file, lines, { encoding: 'utf8', mode: 0o600 });
  }
}

/** Where the local twin keeps its event log, under its data directory. */
export function localEventLogFile(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}/events/events.jsonl`;
}

/**
 * The publisher a configuration names: the EventBridge bus when one is configured, the local event log under the
 * data directory in the local twin (serverless-offline), none otherwise (events then stay unrecorded: see
 * `./relay.ts`).
 */
export function createEventPublisher(c: { bus?: string; endpoint?: string; offline: boolean; dataDir: string; region: string }): EventPublisher | undefined {
  if (c.bus) return new EventBridgePublisher({ bus: c.bus, region: c.region, ...(c.endpoint ? { endpoint: c.endpoint } : {}) });
  if (c.offline) return new LocalEventLog({ file: localEventLogFile(c.dataDir), region: c.region });
  return undefined;
}
