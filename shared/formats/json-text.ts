/**
 * `JSON.stringify` of a normalised sample, exactly, but cheaper on the import hot path: a sample is a few plain
 * objects and arrays around long strings, most of which need no escaping at all, and one regex scan of a string
 * finds what does far faster than `JSON.stringify` walks it. Anything that is not plain JSON data (a `toJSON`, a
 * class instance, a non-finite number, `undefined` in an array…) is left to `JSON.stringify` itself, and so is a
 * string with a surrogate: the output is always the same.
 */

/** What `JSON.stringify` may escape in a string: `"`, `\`, control characters, and (lone) surrogates. */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/g;

/** How `JSON.stringify` writes the characters below U+0020, `"` and `\`, by char code. */
const ESCAPES: string[] = [];
for (let c = 0; c < 0x20; c++) ESCAPES[c] = `\\u${c.toString(16).padStart(4, '0')}`;
Object.assign(ESCAPES, { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r', 34: '\\"', 92: '\\\\' });

/**
 * `JSON.stringify(s)` for a string: the runs between the characters to escape are sliced, not copied one by one,
 * which on long text with the odd quote or line break is about twice as fast.
 */
export function jsonString(s: string): string {
  ESCAPED.lastIndex = 0;
  let match = ESCAPED.exec(s);
  if (match === null) return `"${s}"`;
  let out = '"';
  let last = 0;
  do {
    const at = match.index;
    const c = s.charCodeAt(at);
    // A surrogate may be half of a valid pair (kept as is) or lone (escaped): JSON.stringify tells them apart.
    if (c >= 0xd800) return JSON.stringify(s);
    out += s.slice(last, at) + ESCAPES[c]!;
    last = at + 1;
    match = ESCAPED.exec(s);
  } while (match !== null);
  return `${out + s.slice(last)}"`;
}

/** Thrown by {@link write} for a value it leaves to `JSON.stringify`. */
const UNSUPPORTED = Symbol('unsupported');

/** Exactly `JSON.stringify(value)` (no replacer, no indentation). */
export function jsonText(value: unknown): string {
  try {
    return write(value);
  } catch (error) {
    if (error === UNSUPPORTED) return JSON.stringify(value);
    throw error;
  }
}

function write(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return jsonString(value);
    case 'number':
      if (Number.isFinite(value)) return String(value);
      throw UNSUPPORTED;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      throw UNSUPPORTED;
  }
  if (value === null) return 'null';
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) throw UNSUPPORTED;
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // undefined, functions and symbols become null in an array: JSON.stringify handles that.
      if (item === undefined) throw UNSUPPORTED;
      out += i === 0 ? write(item) : `,${write(item)}`;
    }
    return `${out}]`;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || 'toJSON' in value) throw UNSUPPORTED;
  let out = '{';
  let first = true;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    // undefined, functions and symbols are skipped in an object: JSON.stringify handles that.
    if (item === undefined) throw UNSUPPORTED;
    out += `${first ? '' : ','}${jsonString(key)}:${write(item)}`;
    first = false;
  }
  return `${out}}`;
}
