/**
 * The outbox relay: how an event recorded with a state change gets published, at least once, even when the process
 * that made the change dies before it could publish.
 *
 * 1. The transition's own conditional write stores its events on the item it changes (`outbox`, and the item enters
 *    the sparse index GSI2: `shared/store/table.ts`). A change and its events are one write: neither exists without
 *    the other.
 * 2. Right after that write, the writer publishes the events and acknowledges them ({@link EventRelay.relay}): one
 *    more conditional write removes them from the item (and the item from the index). That is the one extra write a
 *    transition costs. A failure here (the bus, the store, the process dying) loses nothing: the events stay.
 * 3. The scheduled sweep ({@link EventRelay.redrive}, every minute) publishes and acknowledges whatever has stayed
 *    longer than a grace period. A deletion's events ride on its tombstone: they are published when the deletion is
 *    done, and the tombstone's removal is their acknowledgement; the sweep finishes a deletion that died before
 *    publishing it.
 *
 * So an event may be published twice (a crash between publish and acknowledgement), never lost; consumers dedupe on
 * `detail.eventId`, which the transition fixes (`./catalog.ts`). An item holding unpublished events is never deleted
 * (the store's conditional deletes): whoever deletes it publishes them first ({@link EventRelay.flush}).
 *
 * The outbox also carries the answers to Step Functions tasks waiting for an import or an export (`./callbacks.ts`):
 * recorded with the task's end like its event, and sent by the same relay (to Step Functions, never to the bus).
 *
 * Without a publisher (tests and tools that compose the services bare) nothing is recorded: the transitions write
 * exactly what they wrote before events existed.
 */
import { describeCause, log } from '../log.js';
import type { Clock, OutboxEvent } from '../model.js';
import type { MetadataStore, OutboxItem } from '../store/port.js';
import type { TaskCallbacks } from './callbacks.js';
import { isCallback } from './catalog.js';
import type { EventPublisher } from './publisher.js';

/** How long the sweep leaves events to their writer before it publishes them itself (API functions time out sooner). */
export const REDRIVE_GRACE_MS = 30_000;

export interface RelayDeps {
  store: MetadataStore;
  publisher?: EventPublisher;
  /** Where the answers to waiting Step Functions tasks go. */
  callbacks?: TaskCallbacks;
  now?: Clock;
  /** See {@link REDRIVE_GRACE_MS}. */
  graceMs?: number;
}

export interface RedriveResult {
  /** Items whose events were published and acknowledged. */
  items: number;
  events: number;
  /** Items left for the next sweep (the bus or the store failed). */
  failed: number;
}

export class EventRelay {
  readonly #store: MetadataStore;
  readonly #publisher: EventPublisher | undefined;
  readonly #callbacks: TaskCallbacks | undefined;
  readonly #now: Clock;
  readonly #graceMs: number;

  constructor(deps: RelayDeps) {
    this.#store = deps.store;
    this.#publisher = deps.publisher;
    this.#callbacks = deps.callbacks;
    this.#now = deps.now ?? Date.now;
    this.#graceMs = deps.graceMs ?? REDRIVE_GRACE_MS;
  }

  /** Whether events are recorded and published at all. */
  get enabled(): boolean {
    return this.#publisher !== undefined;
  }

  /** The events a transition's write records: these, or none when nothing publishes them. */
  record(...events: OutboxEvent[]): OutboxEvent[] | undefined {
    return this.#publisher && events.length > 0 ? events : undefined;
  }

  /** Publishes the events on the bus and sends the callbacks to Step Functions. */
  async #deliver(entries: readonly OutboxEvent[]): Promise<void> {
    const calls = entries.filter(isCallback);
    const events = entries.filter((e) => !isCallback(e));
    if (events.length > 0) await this.#publisher?.publish(events);
    if (calls.length > 0) {
      // Kept in the outbox until a process that can answer Step Functions does.
      if (!this.#callbacks) throw new Error('no Step Functions client is configured to answer the waiting task');
      await this.#callbacks.send(calls);
    }
  }

  /**
   * After a transition's write: publishes its events and acknowledges them. Never throws: what fails here stays in
   * the outbox for the sweep.
   */
  async relay(item: OutboxItem, events: readonly OutboxEvent[] | undefined): Promise<void> {
    if (!this.#publisher || !events || events.length === 0) return;
    try {
      await this.#deliver(events);
      await this.#store.ackOutbox(item, events.map((e) => e.eventId));
    } catch (error) {
      log.warn('events not published yet; the sweep will publish them', { ...item, events: events.map((e) => e.detailType), ...describeCause(error) });
    }
  }

  /** Publishes events without acknowledging them (a deletion's, whose tombstone's removal acknowledges them). Throws. */
  async publish(events: readonly OutboxEvent[]): Promise<void> {
    if (this.#publisher && events.length > 0) await this.#deliver(events);
  }

  /**
   * Publishes and acknowledges whatever events an item holds (before it is deleted, or from the sweep). Throws if
   * they could not be published. Without a publisher nothing was recorded, so there is nothing to do.
   */
  async flush(item: OutboxItem): Promise<void> {
    if (!this.#publisher) return;
    for (let round = 0; round < 3; round++) {
      const pending = await this.#store.getOutbox(item);
      if (pending.length === 0) return;
      await this.#deliver(pending);
      if ((await this.#store.ackOutbox(item, pending.map((e) => e.eventId))) === 0) return;
    }
  }

  /**
   * The sweep: publishes and acknowledges the events that stayed in the outbox longer than the grace period (their
   * writer died, or the bus failed), oldest first, while the budget lasts. Tombstones go to `finishDeletion`, which
   * completes the deletion and publishes its events. A failing item does not stop the others.
   */
  async redrive(options: { limit?: number; budget?: { remainingMs(): number }; reserveMs?: number; finishDeletion?: (item: OutboxItem) => Promise<void> } = {}): Promise<RedriveResult> {
    const result: RedriveResult = { items: 0, events: 0, failed: 0 };
    if (!this.#publisher) return result;
    const before = new Date(this.#now() - this.#graceMs).toISOString();
    for (const entry of await this.#store.listOutbox(before, options.limit ?? 500)) {
      if (options.budget && options.budget.remainingMs() < (options.reserveMs ?? 0)) break;
      try {
        if (entry.item.kind === 'tombstone') {
          if (!options.finishDeletion) continue;
          await options.finishDeletion(entry.item);
        } else {
          await this.#deliver(entry.events);
          await this.#store.ackOutbox(entry.item, entry.events.map((e) => e.eventId));
        }
        result.items++;
        result.events += entry.events.length;
      } catch (error) {
        result.failed++;
        log.warn('events could not be re-driven; the next sweep tries again', { ...entry.item, ...describeCause(error) });
      }
    }
    return result;
  }
}
