/**
 * The hot-path helpers of `shared/formats` that must agree exactly with what they replace: `jsonText` with
 * `JSON.stringify` (it writes the stored sample lines), `codePoints` with counting code points one by one (it counts
 * `characterCount`).
 */
import { describe, expect, it } from 'vitest';
import { jsonString, jsonText } from '../../shared/formats/json-text.js';
import { codePoints } from '../../shared/formats/validate.js';

describe('Formats: jsonText', () => {
  it('writes every UTF-16 code unit, alone and inside text, exactly as JSON.stringify does', () => {
    // Prepare
    const strings: string[] = [];
    for (let c = 0; c < 0x10000; c++) strings.push(String.fromCharCode(c), `ab${String.fromCharCode(c)}cd`);
    // Act
    const different = strings.filter((s) => jsonString(s) !== JSON.stringify(s));
    // Assess
    expect(different).toEqual([]);
  });

  it.each([
    ['no escapes', 'plain text, 中文 and ☃'],
    ['quotes, backslashes and line breaks', 'a "quoted" \\ back\nslash\r\n\ttab'],
    ['control characters', '\u0000\u0001\u0008\u000b\u000c\u001f\u007f'],
    ['a surrogate pair', 'emoji 😀 and "quotes"'],
    ['a lone high surrogate', 'x\ud83dy "q"'],
    ['a lone low surrogate', '\ude00'],
    ['pairs the wrong way round', '\ude00\ud83d'],
    ['line and paragraph separators', '\u2028\u2029</script>'],
    ['the empty string', ''],
  ])('writes a string with %s as JSON.stringify does', (_what, s) => {
    // Act + Assess
    expect(jsonString(s)).toBe(JSON.stringify(s));
    expect(JSON.parse(jsonString(s))).toBe(s);
  });

  it.each([
    ['a PromptResponse sample', [{ system: 's', prompt: 'p "1"', response: [['r\n']] }, { prompt: 'p2', response: [['r2']], weight: 0 }]],
    ['ranked responses with scores', [{ prompt: 'p', response: [['a'], ['b']], score: [2, -1] }]],
    ['a Role sample', { messages: [{ role: 'user', content: 'u' }, { role: 'assistant', content: 'a' }] }],
    ['numbers', { a: 0, b: -0, c: 1.5, d: 1e21, e: -1e-7, f: 2 ** 53 }],
    ['booleans and null', [true, false, null, { n: null }]],
    ['integer-like keys (ordered first)', { b: 1, 2: 'two', 1: 'one', a: [] }],
    ['keys that need escaping', { 'say "hi"\n': 1 }],
    ['empty containers', [{}, [], [[]], { a: {} }]],
    ['non-finite numbers', [NaN, Infinity, { x: -Infinity }]],
    ['undefined in an array and an object', [undefined, { u: undefined, v: 1 }]],
    ['functions and symbols', [() => 1, { f: () => 1, s: Symbol('s'), t: 't' }]],
    ['a Date', { at: new Date(0) }],
    ['a toJSON method', { a: { toJSON: () => 'custom' } }],
    ['a null-prototype object', Object.assign(Object.create(null) as object, { k: 'v' })],
    ['an array with extra properties', Object.assign(['x'], { extra: 1 })],
    ['a boxed string', [new String('boxed')]],
    ['a top-level string', 'top "level"'],
  ])('writes %s exactly as JSON.stringify does', (_what, value) => {
    // Act + Assess
    expect(jsonText(value)).toBe(JSON.stringify(value));
  });
});

describe('Formats: codePoints', () => {
  it.each([
    ['', 0],
    ['ascii', 5],
    ['中文☃', 3],
    ['😀', 1],
    ['a😀b😀', 4],
    ['\ud83d', 1],
    ['\ude00', 1],
    ['\ude00\ud83d', 2],
    ['x\ud83d', 2],
  ])('counts %j as %i code points', (s, expected) => {
    // Act + Assess
    expect(codePoints(s)).toBe(expected);
    expect(codePoints(s)).toBe(Array.from(s).length);
  });
});
