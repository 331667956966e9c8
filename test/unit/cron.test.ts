/**
 * Schedule expressions: rate() and EventBridge-style cron() parsing, refusals, and next occurrences (UTC).
 */
import { describe, expect, it } from 'vitest';
import { catchUp, nextOccurrence, parseSchedule, ScheduleExpressionError, type Schedule } from '../../shared/datasets/cron.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** The first `n` occurrences after `from`. */
function occurrences(schedule: Schedule, from: string, n: number): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < n && t !== undefined; i++) {
    t = nextOccurrence(schedule, t);
    out.push(iso(t));
  }
  return out;
}

describe('rate()', () => {
  it('parses every unit, singular and plural, and anchors due times at creation', () => {
    // Prepare
    const anchor = at('2024-01-01T00:00:30.000Z');
    // Act
    const minutes = parseSchedule('rate(5 minutes)');
    const hour = parseSchedule(' rate(1 hour) ');
    const days = parseSchedule('rate(2 days)');
    // Assess
    expect(minutes).toMatchObject({ kind: 'rate', periodMs: 5 * 60_000 });
    expect(hour).toMatchObject({ kind: 'rate', periodMs: 3_600_000, expression: 'rate(1 hour)' });
    expect(days).toMatchObject({ kind: 'rate', periodMs: 2 * 86_400_000 });
    expect(iso(nextOccurrence(minutes, anchor, anchor))).toBe('2024-01-01T00:05:30.000Z');
    expect(iso(nextOccurrence(minutes, at('2024-01-01T00:05:30.000Z'), anchor))).toBe('2024-01-01T00:10:30.000Z');
    expect(iso(nextOccurrence(minutes, at('2024-01-01T00:07:00.000Z'), anchor))).toBe('2024-01-01T00:10:30.000Z');
  });

  it.each(['rate(0 minutes)', 'rate(-1 minutes)', 'rate(1 week)', 'rate(1.5 hours)', 'rate(minutes)', 'rate()', 'every 5 minutes'])('refuses %s', (text) => {
    // Act + Assess
    expect(() => parseSchedule(text)).toThrow(ScheduleExpressionError);
  });
});

describe('cron()', () => {
  it('runs at fixed times every day', () => {
    // Act
    const daily = parseSchedule('cron(30 2 * * ? *)');
    // Assess
    expect(occurrences(daily, '2024-03-01T02:30:00.000Z', 3)).toEqual(['2024-03-02T02:30:00.000Z', '2024-03-03T02:30:00.000Z', '2024-03-04T02:30:00.000Z']);
    expect(iso(nextOccurrence(daily, at('2024-03-01T02:29:59.999Z')))).toBe('2024-03-01T02:30:00.000Z');
  });

  it('handles month ends and leap years (day 31 and day 29 skip short months)', () => {
    // Act
    const on31 = parseSchedule('cron(0 0 31 * ? *)');
    const on29feb = parseSchedule('cron(0 12 29 FEB ? *)');
    // Assess
    expect(occurrences(on31, '2024-01-31T00:00:00.000Z', 3)).toEqual(['2024-03-31T00:00:00.000Z', '2024-05-31T00:00:00.000Z', '2024-07-31T00:00:00.000Z']);
    expect(occurrences(on29feb, '2024-03-01T00:00:00.000Z', 2)).toEqual(['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z']);
    expect(iso(nextOccurrence(parseSchedule('cron(59 23 * DEC ? *)'), at('2024-12-31T23:59:00.000Z')))).toBe('2025-12-01T23:59:00.000Z');
  });

  it('reads weekday names and numbers (1 = Sunday) and ranges of them', () => {
    // Act
    const weekdays = parseSchedule('cron(0 9 ? * MON-FRI *)');
    const sunday = parseSchedule('cron(0 9 ? * 1 *)');
    const list = parseSchedule('cron(0 9 ? * sat,SUN *)');
    // Assess: 2024-03-01 is a Friday
    expect(occurrences(weekdays, '2024-03-01T09:00:00.000Z', 2)).toEqual(['2024-03-04T09:00:00.000Z', '2024-03-05T09:00:00.000Z']);
    expect(occurrences(sunday, '2024-03-01T00:00:00.000Z', 1)).toEqual(['2024-03-03T09:00:00.000Z']);
    expect(occurrences(list, '2024-03-01T00:00:00.000Z', 3)).toEqual(['2024-03-02T09:00:00.000Z', '2024-03-03T09:00:00.000Z', '2024-03-09T09:00:00.000Z']);
  });

  it('reads steps (*/n, a/n, a-b/n), lists, month names and years', () => {
    // Act
    const every15 = parseSchedule('cron(*/15 * * * ? *)');
    const from5 = parseSchedule('cron(5/20 * * * ? *)');
    const rangeStep = parseSchedule('cron(0 8-18/5 * * ? *)');
    const quarterly = parseSchedule('cron(0 0 1 JAN,APR,JUL,OCT ? 2025-2026)');
    // Assess
    expect(occurrences(every15, '2024-03-01T10:50:00.000Z', 3)).toEqual(['2024-03-01T11:00:00.000Z', '2024-03-01T11:15:00.000Z', '2024-03-01T11:30:00.000Z']);
    expect(occurrences(from5, '2024-03-01T10:50:00.000Z', 3)).toEqual(['2024-03-01T11:05:00.000Z', '2024-03-01T11:25:00.000Z', '2024-03-01T11:45:00.000Z']);
    expect(occurrences(rangeStep, '2024-03-01T09:00:00.000Z', 3)).toEqual(['2024-03-01T13:00:00.000Z', '2024-03-01T18:00:00.000Z', '2024-03-02T08:00:00.000Z']);
    expect(occurrences(quarterly, '2024-06-01T00:00:00.000Z', 9)).toEqual([
      '2025-01-01T00:00:00.000Z',
      '2025-04-01T00:00:00.000Z',
      '2025-07-01T00:00:00.000Z',
      '2025-10-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-04-01T00:00:00.000Z',
      '2026-07-01T00:00:00.000Z',
      '2026-10-01T00:00:00.000Z',
      undefined,
    ]);
  });

  it.each([
    ['cron(0 0 L * ? *)', /L, W or #/],
    ['cron(0 0 15W * ? *)', /L, W or #/],
    ['cron(0 0 ? * 6#3 *)', /L, W or #/],
    ['cron(0 0 ? * 6L *)', /L, W or #/],
    ['cron(0 0 * * *)', /6 fields/],
    ['cron(0 0 * * * *)', /exactly one of day-of-month and day-of-week/],
    ['cron(0 0 ? * ? *)', /exactly one of day-of-month and day-of-week/],
    ['cron(60 0 * * ? *)', /minutes must be between 0 and 59/],
    ['cron(0 24 * * ? *)', /hours/],
    ['cron(0 0 32 * ? *)', /day-of-month/],
    ['cron(0 0 ? * 8 *)', /day-of-week/],
    ['cron(0 0 1 FOO ? *)', /invalid value/],
    ['cron(0 0 1 * ? 1969)', /year/],
    ['cron(*/0 0 1 * ? *)', /step of 0/],
    ['cron(10-5 0 1 * ? *)', /ends before it starts/],
    ['cron(? 0 1 * ? *)', /"\?" is allowed only/],
  ])('refuses %s', (text, reason) => {
    // Act + Assess
    expect(() => parseSchedule(text)).toThrow(reason);
  });
});

describe('catch-up', () => {
  it('finds the latest missed due time and the first after now (rate and cron)', () => {
    // Prepare
    const rate = parseSchedule('rate(10 minutes)');
    const hourly = parseSchedule('cron(0 * * * ? *)');
    const yearly = parseSchedule('cron(0 0 1 JAN ? *)');
    const anchor = at('2024-01-01T00:00:00.000Z');
    // Act
    const r = catchUp(rate, at('2024-01-01T00:10:00.000Z'), at('2024-01-01T01:05:00.000Z'), anchor);
    const c = catchUp(hourly, at('2024-01-01T01:00:00.000Z'), at('2024-01-03T05:30:00.000Z'), anchor);
    const y = catchUp(yearly, at('2020-01-01T00:00:00.000Z'), at('2024-06-01T00:00:00.000Z'), anchor);
    const onTime = catchUp(hourly, at('2024-01-01T01:00:00.000Z'), at('2024-01-01T01:00:20.000Z'), anchor);
    // Assess
    expect([iso(r.latest), iso(r.next)]).toEqual(['2024-01-01T01:00:00.000Z', '2024-01-01T01:10:00.000Z']);
    expect([iso(c.latest), iso(c.next)]).toEqual(['2024-01-03T05:00:00.000Z', '2024-01-03T06:00:00.000Z']);
    expect([iso(y.latest), iso(y.next)]).toEqual(['2024-01-01T00:00:00.000Z', '2025-01-01T00:00:00.000Z']);
    expect([iso(onTime.latest), iso(onTime.next)]).toEqual(['2024-01-01T01:00:00.000Z', '2024-01-01T02:00:00.000Z']);
  });
});
