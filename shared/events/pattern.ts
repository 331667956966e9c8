/**
 * EventBridge event patterns, as the local dispatcher matches them against events (the cloud's bus does this
 * itself): a pattern is an object whose leaves are arrays of allowed values; an event matches when every field the
 * pattern names matches (AND), and a field matches when its value, or one of its values if it is an array, matches
 * one element of the list (OR). Elements are exact values (string, number, boolean, null) or filters: `prefix`,
 * `suffix`, `equals-ignore-case`, `anything-but` (a value, a list, or `{prefix}` / `{suffix}`), `numeric`
 * (`[">", 0, "<=", 5]`), `exists`, `wildcard` (`*`). `$or` takes a list of patterns, any of which may match.
 *
 * No npm package implements EventBridge's matching for Node (serverless-offline-aws-eventbridge's own is partial:
 * no `$or` at the top, no `wildcard`, a `{prefix}` inside `anything-but` throws), so the rules are written out here,
 * with the EventBridge user guide's examples as tests (`test/unit/events.pattern.test.ts`).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
}

/** Whether `event` (an EventBridge event: `source`, `detail-type`, `detail`, …) matches `pattern`. */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new EventPatternError('an event pattern must be an object');
  return matchObject(pattern, event);
}

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchObject(pattern: Record<string, Json>, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!Array.isArray(rule)) throw new EventPatternError('$or takes a list of patterns');
      if (!rule.some((alternative) => isObject(alternative) && matchObject(alternative, value))) return false;
      continue;
    }
    const field = isObject(value) ? value[key] : undefined;
    if (Array.isArray(rule)) {
      if (!matchField(rule, field, isObject(value) && key in value)) return false;
    } else if (isObject(rule)) {
      if (!matchObject(rule, field)) return false;
    } else {
      throw new EventPatternError(`the pattern's "${key}" must be a list of values or an object`);
    }
  }
  return true;
}

/** One field against its list of alternatives; an array value matches if any of its elements does. */
function matchField(alternatives: Json[], value: unknown, present: boolean): boolean {
  const values: unknown[] = Array.isArray(value) ? value : present ? [value] : [];
  return alternatives.some((alternative) => {
    if (isObject(alternative) && 'exists' in alternative) return alternative.exists === (present && value !== undefined);
    return values.some((v) => matchValue(alternative, v));
  });
}

function matchValue(rule: Json, value: unknown): boolean {
  if (!isObject(rule)) return rule === value;
  const [kind, arg] = Object.entries(rule)[0] ?? [];
  switch (kind) {
    case 'prefix':
      return typeof value === 'string' && typeof arg === 'string' && value.startsWith(arg);
    case 'suffix':
      return typeof value === 'string' && typeof arg === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return typeof value === 'string' && typeof arg === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      return typeof value === 'string' && typeof arg === 'string' && wildcard(arg).test(value);
    case 'anything-but':
      if (Array.isArray(arg)) return !arg.includes(value as Json);
      if (isObject(arg)) return !matchValue(arg, value);
      return value !== arg;
    case 'numeric':
      return typeof value === 'number' && Array.isArray(arg) && numeric(arg, value);
    default:
      throw new EventPatternError(`unknown filter ${JSON.stringify(kind)} in an event pattern`);
  }
}

function numeric(conditions: Json[], value: number): boolean {
  for (let i = 0; i < conditions.length; i += 2) {
    const [op, bound] = [conditions[i], conditions[i + 1]];
    if (typeof bound !== 'number') throw new EventPatternError('numeric takes pairs of an operator and a number');
    const ok = op === '=' ? value === bound : op === '<' ? value < bound : op === '<=' ? value <= bound : op === '>' ? value > bound : op === '>=' ? value >= bound : undefined;
    if (ok === undefined) throw new EventPatternError(`unknown numeric operator ${JSON.stringify(op)}`);
    if (!ok) return false;
  }
  return true;
}

function wildcard(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}
