/**
 * Ids: a prefix (`dg-` dataset, `ds-` version, `task-` task, `sch-` export
 * schedule, `rule-` import rule) and 16 lowercase base36 characters. The first 9 encode
 * the creation time in milliseconds and the last 7 are random, so ids sort in creation order and serve directly as
 * DynamoDB sort keys and list markers. Within one process, ids made in the same millisecond still increase.
 */
import { randomInt } from 'node:crypto';

export type IdKind = 'dataset' | 'version' | 'task' | 'schedule' | 'rule';

export const PREFIX: Record<IdKind, string> = { dataset: 'dg-', version: 'ds-', task: 'task-', schedule: 'sch-', rule: 'rule-' };
const TIME_CHARS = 9;
const RANDOM_CHARS = 7;
const RANDOM_SPACE = 36 ** RANDOM_CHARS;
export const BODY = /^[0-9a-z]{16}$/;

let lastTime = 0;
let lastRandom = 0;

function body(now: number): string {
  let random: number;
  if (now <= lastTime) {
    // Same (or an earlier, if the clock stepped back) millisecond: keep the time, step the random part up.
    now = lastTime;
    random = lastRandom + 1 + randomInt(1000);
    if (random >= RANDOM_SPACE) {
      now = lastTime + 1;
      random = randomInt(RANDOM_SPACE / 2);
    }
  } else {
    random = randomInt(RANDOM_SPACE / 2);
  }
  lastTime = now;
  lastRandom = random;
  return now.toString(36).padStart(TIME_CHARS, '0') + random.toString(36).padStart(RANDOM_CHARS, '0');
}

export function newId(kind: IdKind, now = Date.now()): string {
  return PREFIX[kind] + body(now);
}

/** True when `id` is a well-formed id of that kind. */
export function isId(kind: IdKind, id: string): boolean {
  const prefix = PREFIX[kind];
  return id.startsWith(prefix) && BODY.test(id.slice(prefix.length));
}
