/**
 * Schedule expressions of export schedules (a qfdata extension), in EventBridge's syntax and evaluated in UTC as
 * EventBridge evaluates them:
 *
 * - `rate(N minute|minutes|hour|hours|day|days)`, N ≥ 1: every N units, anchored at the schedule's creation (the
 *   first due time is creation + N units; later ones are exact multiples after it, so they never drift).
 * - `cron(minutes hours day-of-month month day-of-week year)`: numbers, `*`, `?`, ranges `a-b`, lists `a,b`, steps
 *   `*\/n`, `a/n` and `a-b/n`, month names `JAN`–`DEC` and weekday names `SUN`–`SAT` (weekday numbers 1–7, 1 being
 *   Sunday, as in EventBridge). As in EventBridge one of day-of-month and day-of-week must be `?`. `L`, `W` and `#`
 *   are refused.
 *
 * Pure: no clock, no I/O. Due times are whole minutes (seconds and milliseconds 0).
 */

export type Schedule =
  | { kind: 'rate'; expression: string; periodMs: number }
  | {
      kind: 'cron';
      expression: string;
      minutes: ReadonlySet<number>;
      hours: ReadonlySet<number>;
      /** undefined: `?` (the other day field decides). */
      daysOfMonth?: ReadonlySet<number>;
      months: ReadonlySet<number>;
      /** 1–7, 1 = Sunday; undefined: `?`. */
      daysOfWeek?: ReadonlySet<number>;
      years: ReadonlySet<number>;
    };

/** Thrown for an expression qfdata cannot run; the message says why, for the client. */
export class ScheduleExpressionError extends Error {
  override readonly name = 'ScheduleExpressionError';
}

const MINUTE = 60_000;
const UNIT_MS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 2199;

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  /** The number of the first name (months: 1, weekdays: 1). */
  nameBase?: number;
}

const FIELDS: FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, nameBase: 1 },
  { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, nameBase: 1 },
  { name: 'year', min: FIRST_YEAR, max: LAST_YEAR },
];

function fail(expression: string, why: string): never {
  throw new ScheduleExpressionError(`The schedule expression ${JSON.stringify(expression.slice(0, 200))} is not valid: ${why}.`);
}

/** Parses `rate(…)` or `cron(…)`; throws {@link ScheduleExpressionError} with the reason otherwise. */
export function parseSchedule(expression: string): Schedule {
  const text = expression.trim();
  const rate = /^rate\((.*)\)$/i.exec(text);
  if (rate) {
    const m = /^\s*(\d{1,6})\s+(minute|minutes|hour|hours|day|days)\s*$/i.exec(rate[1]!);
    if (!m) fail(expression, 'a rate is rate(N minute|minutes|hour|hours|day|days) with a whole number N ≥ 1');
    const n = Number(m[1]);
    if (n < 1) fail(expression, 'the rate must be at least 1');
    const unit = m[2]!.toLowerCase().replace(/s$/, '');
    return { kind: 'rate', expression: text, periodMs: n * UNIT_MS[unit]! };
  }
  const cron = /^cron\((.*)\)$/i.exec(text);
  if (!cron) fail(expression, 'use rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)');
  const parts = cron[1]!.trim().split(/\s+/);
  if (parts.length !== 6) fail(expression, `a cron expression has 6 fields (minutes hours day-of-month month day-of-week year), not ${parts.length}`);
  const [minutes, hours, dom, month, dow, year] = parts.map((p, i) => parseField(expression, p, FIELDS[i]!));
  if ((dom === undefined) === (dow === undefined)) {
    fail(expression, 'exactly one of day-of-month and day-of-week must be "?" (EventBridge does not combine them)');
  }
  for (const [set, spec] of [
    [minutes, FIELDS[0]!],
    [hours, FIELDS[1]!],
    [month, FIELDS[3]!],
    [year, FIELDS[5]!],
  ] as const) {
    if (set === undefined) fail(expression, `"?" is allowed only in day-of-month or day-of-week, not in ${spec.name}`);
  }
  return {
    kind: 'cron',
    expression: text,
    minutes: minutes!,
    hours: hours!,
    ...(dom ? { daysOfMonth: dom } : {}),
    months: month!,
    ...(dow ? { daysOfWeek: dow } : {}),
    years: year!,
  };
}

/** One cron field as the set of values it allows; undefined for `?`. */
function parseField(expression: string, field: string, spec: FieldSpec): Set<number> | undefined {
  if (field === '?') return undefined;
  if (/[LW#]/i.test(field.replace(/[A-Z]{3}/gi, (w) => (spec.names?.includes(w.toUpperCase()) ? '0' : w)))) {
    fail(expression, `${spec.name} uses L, W or #, which qfdata does not support; list the days instead`);
  }
  const values = new Set<number>();
  for (const item of field.split(',')) {
    const m = /^([^/]+)(?:\/(\d{1,4}))?$/.exec(item);
    if (!m) fail(expression, `${spec.name} has an invalid item ${JSON.stringify(item)}`);
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) fail(expression, `${spec.name} has a step of 0`);
    let from: number;
    let to: number;
    if (m[1] === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const range = m[1]!.split('-');
      if (range.length > 2) fail(expression, `${spec.name} has an invalid range ${JSON.stringify(m[1])}`);
      from = value(expression, range[0]!, spec);
      // `a/n` runs from a to the field's end; a bare `a` is the one value.
      to = range.length === 2 ? value(expression, range[1]!, spec) : m[2] === undefined ? from : spec.max;
      if (to < from) fail(expression, `${spec.name} has a range ${JSON.stringify(m[1])} that ends before it starts`);
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

function value(expression: string, text: string, spec: FieldSpec): number {
  let n: number;
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) n = named + (spec.nameBase ?? 0);
  else if (/^\d{1,4}$/.test(text)) n = Number(text);
  else fail(expression, `${spec.name} has an invalid value ${JSON.stringify(text)}`);
  if (n < spec.min || n > spec.max) fail(expression, `${spec.name} must be between ${spec.min} and ${spec.max}, not ${n}`);
  return n;
}

/**
 * The first due time strictly after `after` (epoch ms), or undefined when there is none (a cron whose years are
 * over). A rate needs its anchor: due times are `anchor + k × period`, k ≥ 1.
 */
export function nextOccurrence(schedule: Schedule, after: number, anchor = after): number | undefined {
  if (schedule.kind === 'rate') {
    const k = after < anchor ? 1 : Math.floor((after - anchor) / schedule.periodMs) + 1;
    return anchor + Math.max(1, k) * schedule.periodMs;
  }
  // Start at the next whole minute after `after`, then move forward field by field (UTC).
  const t = new Date(Math.floor(after / MINUTE) * MINUTE + MINUTE);
  for (let guard = 0; guard < 100_000; guard++) {
    const year = t.getUTCFullYear();
    if (year > LAST_YEAR) return undefined;
    if (!schedule.years.has(year)) {
      t.setUTCFullYear(year + 1, 0, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.months.has(t.getUTCMonth() + 1)) {
      t.setUTCMonth(t.getUTCMonth() + 1, 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    const dayOk = schedule.daysOfMonth ? schedule.daysOfMonth.has(t.getUTCDate()) : schedule.daysOfWeek!.has(t.getUTCDay() + 1);
    if (!dayOk) {
      t.setUTCDate(t.getUTCDate() + 1);
      t.setUTCHours(0, 0, 0, 0);
      continue;
    }
    if (!schedule.hours.has(t.getUTCHours())) {
      t.setUTCHours(t.getUTCHours() + 1, 0, 0, 0);
      continue;
    }
    if (!schedule.minutes.has(t.getUTCMinutes())) {
      t.setUTCMinutes(t.getUTCMinutes() + 1, 0, 0);
      continue;
    }
    return t.getTime();
  }
  return undefined;
}

/**
 * The latest due time at or before `now`, counting from `due` (a due time, itself ≤ now), and the first after
 * `now`: the catch-up rule of the runner (after downtime only the latest missed due time runs).
 */
export function catchUp(schedule: Schedule, due: number, now: number, anchor: number): { latest: number; next: number | undefined } {
  if (schedule.kind === 'rate') {
    const k = Math.max(0, Math.floor((now - due) / schedule.periodMs));
    const latest = due + k * schedule.periodMs;
    return { latest, next: nextOccurrence(schedule, latest, anchor) };
  }
  // Look for occurrences in the last two days first (cheap); scan from `due` only when there are none there.
  let latest = due;
  let from = Math.max(due, now - 2 * 24 * 60 * MINUTE);
  let next = nextOccurrence(schedule, from);
  if (from > due && (next === undefined || next > now)) {
    from = due;
    next = nextOccurrence(schedule, from);
  }
  while (next !== undefined && next <= now) {
    latest = next;
    next = nextOccurrence(schedule, next);
  }
  return { latest, next };
}
