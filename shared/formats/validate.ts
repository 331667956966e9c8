/**
 * Per-format rules: turn a parsed value (a JSONL line, a JSON array element, a csv/xlsx row, a txt line) into the
 * normalised sample that is stored and exported, one per JSONL line. Hand-written checks (no zod): this runs once
 * per line on the import hot path.
 *
 * Codes (spec §7.2): 9 "text format mismatch" for a value of the wrong shape, naming the field
 * (`turn 2: "response" must be a string or [[string]]`); 13 "empty text" for a required text that is empty or
 * only whitespace. Unknown keys are dropped. `characters` counts the code points of every string value of the
 * normalised sample (role names and image locations included).
 *
 * Normalised shapes:
 * - PromptResponse: `[{system?, prompt, response?: [[string]], weight?: 0|1}, …]`. `response` may be given as a
 *   string or as `[[string]]` with exactly one string. Only the last turn may lack a response (the sample is then
 *   unannotated); an empty response (`""`, `null`) counts as none. `system` only on the first turn. A bare object is
 *   a one-turn sample.
 * - PromptSortedresponses: as PromptResponse, but the last turn's `response` is `[[str],[str],…]` (≥ 2 non-empty
 *   candidates) with an optional `score`, an integer array of the same length (last turn only).
 * - DPO_PromptChosenRejected: `[{system?, user, assistant}, …, {user, chosen, rejected}]`, all non-empty strings.
 * - KTO_PromptChosenRejected: as DPO, but the last turn has exactly one of `chosen` / `rejected` (an empty string
 *   counts as absent).
 * - Prompt: `{prompt}` (given as `{prompt}` or `[{prompt}]`); a txt line is a prompt.
 * - Text: `{text}`; a txt line is a text.
 * - Role (undocumented by Qianfan; our choice): `{messages: [{role, content}, …]}`, given as that object or as the
 *   bare message array. Roles: an optional `system` first, then `user` and `assistant` alternating, starting with
 *   `user` and ending with `assistant`; every `content` a non-empty string. A turn is a user message.
 * - SFT_FIM (undocumented by Qianfan; our choice): `{prefix, suffix, middle}`, three strings (each may be empty, not
 *   all three), given as that object or a one-element array.
 * - PromptImage: `{prompt, image}`; `image` is an http(s) URL, a `data:image/…;base64,` URI, or a relative path
 *   (jpg/jpeg/png/bmp/webp) to an image of the same archive, resolved against the data file's folder and then the
 *   archive root, and stored as the archive-root path. Outside an archive a relative path is an error.
 * - PromptImageResponse: `{images: [location, …], messages: [{role, content}, …]}` (spec §4): images as for
 *   PromptImage (at least one); messages as Role, except that a sample ending with a `user` message is accepted as
 *   unannotated; the placeholders `<ImageHere>` (one image) or `<Image1Here>`…`<ImageNHere>` (each once) must
 *   match the images.
 *
 * Turns beyond `maxTurns` are dropped (and only the kept turns are checked); the caller reports it as a notice.
 */
import type { DataFormat } from '../model.js';
import { CODE, type ImageResolver } from './types.js';

export interface ValidateContext {
  maxTurns: number;
  images?: ImageResolver | undefined;
  siblingImage?: string | undefined;
}

export type Outcome =
  | { ok: true; sample: unknown; characters: number; annotated: boolean; truncatedFrom?: number }
  | { ok: false; code: number; reason: string };

/** Thrown inside the rules, caught by {@link normalise}: a plain object, so no stack is captured. */
class Invalid {
  constructor(
    readonly code: number,
    readonly reason: string,
  ) {}
}

function fail(code: number, reason: string): never {
  throw new Invalid(code, reason);
}

type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Any UTF-16 surrogate: a string without one has as many code points as units. */
const SURROGATE = /[\uD800-\uDFFF]/;

/** Code points of a string (a surrogate pair is one character). */
export function codePoints(s: string): number {
  // The regex scan is several times cheaper than the loop below, and most text has no surrogate at all.
  if (!SURROGATE.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function isBlankString(s: string): boolean {
  return s.length === 0 || s.trim().length === 0;
}

/**
 * Per-call state of one normalisation: the running character count. Without `exact`, the caller knows the source
 * holds no character outside the BMP, so a string's length is its code-point count.
 */
class Acc {
  characters = 0;

  constructor(private readonly exact: boolean) {}

  /** A required, non-empty string field. */
  text(owner: Obj, key: string, where: string): string {
    const value = owner[key];
    if (typeof value !== 'string') {
      fail(CODE.mismatch, value === undefined || value === null ? `${where}"${key}" is missing` : `${where}"${key}" must be a string`);
    }
    if (isBlankString(value)) fail(CODE.empty, `${where}"${key}" is empty`);
    this.characters += this.exact ? codePoints(value) : value.length;
    return value;
  }

  /** An optional string field: absent, null or empty → undefined. */
  optionalText(owner: Obj, key: string, where: string): string | undefined {
    const value = owner[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') fail(CODE.mismatch, `${where}"${key}" must be a string`);
    this.characters += this.exact ? codePoints(value) : value.length;
    return value;
  }

  count(s: string): void {
    this.characters += this.exact ? codePoints(s) : s.length;
  }
}

function turnsOf(value: unknown, what: string): unknown[] {
  if (Array.isArray(value)) {
    if (value.length === 0) fail(CODE.empty, 'the sample has no turns');
    return value;
  }
  if (isObject(value)) return [value];
  fail(CODE.mismatch, `a ${what} sample must be an array of turn objects (or one turn object)`);
}

function turnAt(turns: unknown[], i: number): Obj {
  const turn = turns[i];
  if (!isObject(turn)) fail(CODE.mismatch, `turn ${i + 1} must be an object`);
  return turn;
}

/** `system`: a string on the first turn only. */
function systemOf(acc: Acc, turn: Obj, i: number): string | undefined {
  const value = turn.system;
  if (value === undefined || value === null) return undefined;
  if (i > 0) fail(CODE.mismatch, `turn ${i + 1}: "system" is only allowed on the first turn`);
  return acc.optionalText(turn, 'system', `turn ${i + 1}: `);
}

/** A single response: a string or `[[string]]`; empty means none. */
function singleResponse(acc: Acc, turn: Obj, i: number): [[string]] | undefined {
  const value = turn.response;
  if (value === undefined || value === null || value === '') return undefined;
  let text: unknown;
  if (typeof value === 'string') text = value;
  else if (Array.isArray(value) && value.length === 1 && Array.isArray(value[0]) && value[0].length === 1) text = value[0][0];
  if (typeof text !== 'string') fail(CODE.mismatch, `turn ${i + 1}: "response" must be a string or [[string]]`);
  if (text === '') return undefined;
  acc.count(text);
  // Given as [["…"]]: that very array (it holds nothing else).
  return typeof value === 'string' ? [[text]] : (value as [[string]]);
}

function weightOf(turn: Obj, i: number): 0 | 1 | undefined {
  const value = turn.weight;
  if (value === undefined || value === null) return undefined;
  if (value !== 0 && value !== 1) fail(CODE.mismatch, `turn ${i + 1}: "weight" must be 0 or 1`);
  return value;
}

interface Truncation {
  kept: number;
  from?: number;
}

function truncation(count: number, maxTurns: number): Truncation {
  return count > maxTurns ? { kept: maxTurns, from: count } : { kept: count };
}

/** The keys of a normalised conversation turn, in the order they are written. */
const TURN_KEYS = ['system', 'prompt', 'response', 'score', 'weight'];

/**
 * Whether a turn's own keys are exactly those of its normal form, in their order: `present` has bit `k` set for each
 * `TURN_KEYS[k]` the normal form holds.
 */
function hasTurnKeys(turn: Obj, present: number): boolean {
  let at = 0;
  for (const key in turn) {
    while (at < TURN_KEYS.length && (present & (1 << at)) === 0) at++;
    if (at === TURN_KEYS.length || key !== TURN_KEYS[at] || !Object.hasOwn(turn, key)) return false;
    at++;
  }
  while (at < TURN_KEYS.length && (present & (1 << at)) === 0) at++;
  return at === TURN_KEYS.length;
}

function conversation(
  acc: Acc,
  value: unknown,
  maxTurns: number,
  sorted: boolean,
): { sample: unknown[]; annotated: boolean; from?: number } {
  const turns = turnsOf(value, sorted ? 'PromptSortedresponses' : 'PromptResponse');
  const t = truncation(turns.length, maxTurns);
  const last = t.kept - 1;
  let annotated = true;
  // Most samples are given in their normal form: then the given turns (and array) are the sample, not copies, and
  // `out` is only made for a sample that differs.
  let out: unknown[] | undefined = turns === value && t.from === undefined ? undefined : new Array(t.kept);
  for (let i = 0; i < t.kept; i++) {
    const turn = turnAt(turns, i);
    const system = systemOf(acc, turn, i);
    const prompt = acc.text(turn, 'prompt', `turn ${i + 1}: `);
    let response: string[][] | undefined;
    let score: number[] | undefined;
    if (sorted && i === last) {
      response = rankedResponses(acc, turn, i);
      score = scoreOf(turn, i, response);
    } else {
      response = singleResponse(acc, turn, i);
      if (sorted && turn.score !== undefined && turn.score !== null) {
        fail(CODE.mismatch, `turn ${i + 1}: "score" is only allowed on the last turn`);
      }
    }
    const weight = weightOf(turn, i);
    if (response === undefined) {
      if (i !== last) fail(CODE.mismatch, `turn ${i + 1}: "response" is missing (only the last turn may have no response)`);
      annotated = false;
    }
    // A response given as a string is normalised to [["…"]]; ranked responses are checked to be [["…"], …] as given.
    const present = (system !== undefined ? 1 : 0) | 2 | (response !== undefined ? 4 : 0) | (score !== undefined ? 8 : 0) | (weight !== undefined ? 16 : 0);
    if ((response === undefined || Array.isArray(turn.response)) && hasTurnKeys(turn, present)) {
      if (out !== undefined) out[i] = turn;
      continue;
    }
    if (out === undefined) {
      out = new Array(t.kept);
      for (let k = 0; k < i; k++) out[k] = turns[k];
    }
    const normal: Obj = {};
    if (system !== undefined) normal.system = system;
    normal.prompt = prompt;
    if (response !== undefined) normal.response = response;
    if (score !== undefined) normal.score = score;
    if (weight !== undefined) normal.weight = weight;
    out[i] = normal;
  }
  if (out === undefined) return { sample: turns, annotated };
  return t.from === undefined ? { sample: out, annotated } : { sample: out, annotated, from: t.from };
}

function rankedResponses(acc: Acc, turn: Obj, i: number): string[][] | undefined {
  const value = turn.response;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length < 2) {
    fail(CODE.mismatch, `turn ${i + 1}: "response" must list at least 2 ranked responses as [["…"],["…"]]`);
  }
  for (let k = 0; k < value.length; k++) {
    const candidate: unknown = value[k];
    if (!Array.isArray(candidate) || candidate.length !== 1 || typeof candidate[0] !== 'string') {
      fail(CODE.mismatch, `turn ${i + 1}: response ${k + 1} must be ["string"]`);
    }
    const text = candidate[0] as string;
    if (isBlankString(text)) fail(CODE.empty, `turn ${i + 1}: response ${k + 1} is empty`);
    acc.count(text);
  }
  // Each candidate is checked to be ["…"] and nothing else: the array is its own normal form.
  return value as string[][];
}

function scoreOf(turn: Obj, i: number, response: string[][] | undefined): number[] | undefined {
  const value = turn.score;
  if (value === undefined || value === null) return undefined;
  if (response === undefined) fail(CODE.mismatch, `turn ${i + 1}: "score" needs a "response"`);
  if (!Array.isArray(value) || value.length !== response.length || !value.every((s) => Number.isInteger(s))) {
    fail(CODE.mismatch, `turn ${i + 1}: "score" must be an array of ${response.length} integers, one per response`);
  }
  return value as number[];
}

function preference(acc: Acc, value: unknown, maxTurns: number, kto: boolean): { sample: unknown[]; from?: number } {
  const turns = turnsOf(value, kto ? 'KTO' : 'DPO');
  const t = truncation(turns.length, maxTurns);
  const out: unknown[] = new Array(t.kept);
  const last = t.kept - 1;
  for (let i = 0; i < t.kept; i++) {
    const turn = turnAt(turns, i);
    const where = `turn ${i + 1}: `;
    const system = systemOf(acc, turn, i);
    const user = acc.text(turn, 'user', where);
    const normal: Obj = {};
    if (system !== undefined) normal.system = system;
    normal.user = user;
    if (i < last) {
      for (const key of ['chosen', 'rejected']) {
        if (turn[key] !== undefined && turn[key] !== null) fail(CODE.mismatch, `${where}"${key}" is only allowed on the last turn`);
      }
      normal.assistant = acc.text(turn, 'assistant', where);
    } else {
      if (turn.assistant !== undefined && turn.assistant !== null) {
        fail(CODE.mismatch, `${where}the last turn takes "chosen"/"rejected", not "assistant"`);
      }
      if (kto) {
        const chosen = acc.optionalText(turn, 'chosen', where);
        const rejected = acc.optionalText(turn, 'rejected', where);
        if ((chosen === undefined) === (rejected === undefined)) {
          fail(CODE.mismatch, `${where}the last turn must have exactly one of "chosen" or "rejected"`);
        }
        if (chosen !== undefined) normal.chosen = chosen;
        else normal.rejected = rejected;
      } else {
        normal.chosen = acc.text(turn, 'chosen', where);
        normal.rejected = acc.text(turn, 'rejected', where);
      }
    }
    out[i] = normal;
  }
  return t.from === undefined ? { sample: out } : { sample: out, from: t.from };
}

/** `{…}` or a one-element array holding it. */
function singleObject(value: unknown, format: string, shape: string): Obj {
  if (isObject(value)) return value;
  if (Array.isArray(value) && value.length === 1 && isObject(value[0])) return value[0];
  fail(CODE.mismatch, `a ${format} sample must be ${shape} (or a one-element array holding it)`);
}

interface MessagesOut {
  messages: { role: string; content: string }[];
  annotated: boolean;
  from?: number;
}

function messages(acc: Acc, list: unknown, maxTurns: number, allowUnanswered: boolean): MessagesOut {
  if (!Array.isArray(list)) fail(CODE.mismatch, '"messages" must be an array of {"role", "content"} objects');
  if (list.length === 0) fail(CODE.empty, '"messages" is empty');
  const out: { role: string; content: string }[] = [];
  let users = 0;
  let expected: 'user' | 'assistant' = 'user';
  let from: number | undefined;
  for (let i = 0; i < list.length; i++) {
    const message: unknown = list[i];
    const where = `message ${i + 1}: `;
    if (!isObject(message)) fail(CODE.mismatch, `message ${i + 1} must be an object`);
    const role = message.role;
    if (role !== 'system' && role !== 'user' && role !== 'assistant') {
      fail(CODE.mismatch, `${where}"role" must be "system", "user" or "assistant"`);
    }
    if (role === 'system') {
      if (i !== 0) fail(CODE.mismatch, `${where}a "system" message is only allowed first`);
    } else if (role !== expected) {
      fail(CODE.mismatch, `${where}expected a "${expected}" message (user and assistant messages alternate, starting with user)`);
    } else if (role === 'user') {
      if (users === maxTurns) {
        // Count the turns that are dropped; the rest of the list is not checked.
        let total = users;
        for (let k = i; k < list.length; k++) if (isObject(list[k]) && (list[k] as Obj).role === 'user') total++;
        from = total;
        break;
      }
      users++;
      expected = 'assistant';
    } else {
      expected = 'user';
    }
    const content = acc.text(message, 'content', where);
    acc.count(role);
    out.push({ role, content });
  }
  const lastRole = out[out.length - 1]?.role;
  let annotated = true;
  if (lastRole !== 'assistant') {
    if (!allowUnanswered || lastRole !== 'user') fail(CODE.mismatch, 'the last message must be an "assistant" message');
    annotated = false;
  }
  return from === undefined ? { messages: out, annotated } : { messages: out, annotated, from };
}

const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.bmp', '.webp'];

export function isImagePath(path: string): boolean {
  const lower = path.toLowerCase();
  return IMAGE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

const DATA_URI = /^data:image\/[a-z0-9.+-]+;base64,/i;

/** An image location of a sample, normalised (a relative path becomes the archive-root path). */
function imageLocation(acc: Acc, value: unknown, where: string, images: ImageResolver | undefined): string {
  if (typeof value !== 'string') fail(CODE.mismatch, `${where} must be a string (a path, an http(s) URL or a data URI)`);
  if (isBlankString(value)) fail(CODE.empty, `${where} is empty`);
  let location = value;
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      fail(CODE.mismatch, `${where} is not a valid URL`);
    }
    if (url.hostname === '') fail(CODE.mismatch, `${where} is not a valid URL`);
  } else if (/^data:/i.test(value)) {
    if (!DATA_URI.test(value) || value.length === value.indexOf(',') + 1) {
      fail(CODE.mismatch, `${where} must be a data:image/<type>;base64,… URI`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value)) {
    fail(CODE.mismatch, `${where}: only http(s) URLs, data URIs and relative paths are accepted`);
  } else {
    if (!isImagePath(value)) fail(CODE.mismatch, `${where} "${value}" must be a jpg, jpeg, png, bmp or webp image`);
    if (images === undefined) {
      fail(CODE.mismatch, `${where} "${value}" is a relative path, which only works for a file inside a zip or tar.gz archive`);
    }
    const found = images.resolve(value);
    if ('reason' in found) fail(CODE.mismatch, `${where} "${value}" ${found.reason}`);
    location = found.path;
  }
  acc.count(location);
  return location;
}

const PLACEHOLDER = /<Image(\d*)Here>/g;

function checkPlaceholders(list: { content: string }[], imageCount: number): void {
  let plain = 0;
  const numbered: number[] = [];
  for (const { content } of list) {
    if (content.indexOf('<Image') === -1) continue;
    for (const match of content.matchAll(PLACEHOLDER)) {
      if (match[1] === '') plain++;
      else numbered.push(Number(match[1]));
    }
  }
  const total = plain + numbered.length;
  if (total !== imageCount) {
    fail(CODE.mismatch, `the messages hold ${total} image placeholder(s) but "images" lists ${imageCount}`);
  }
  if (plain > 0 && (plain > 1 || numbered.length > 0)) {
    fail(CODE.mismatch, 'use <ImageHere> for a single image, <Image1Here>, <Image2Here>… for several');
  }
  const seen = new Set<number>();
  for (const n of numbered) {
    if (n < 1 || n > imageCount || seen.has(n)) {
      fail(CODE.mismatch, `placeholder <Image${n}Here> does not match one of the ${imageCount} images (each <ImageNHere> once, N from 1)`);
    }
    seen.add(n);
  }
}

function withTurns(acc: Acc, sample: unknown, annotated: boolean, from: number | undefined): Outcome {
  return from === undefined
    ? { ok: true, sample, characters: acc.characters, annotated }
    : { ok: true, sample, characters: acc.characters, annotated, truncatedFrom: from };
}

function run(format: DataFormat, value: unknown, ctx: ValidateContext, acc: Acc): Outcome {
  switch (format) {
    case 'PromptResponse':
    case 'PromptSortedresponses': {
      const r = conversation(acc, value, ctx.maxTurns, format === 'PromptSortedresponses');
      return withTurns(acc, r.sample, r.annotated, r.from);
    }
    case 'DPO_PromptChosenRejected':
    case 'KTO_PromptChosenRejected': {
      const r = preference(acc, value, ctx.maxTurns, format === 'KTO_PromptChosenRejected');
      return withTurns(acc, r.sample, true, r.from);
    }
    case 'Prompt': {
      const o = singleObject(value, 'Prompt', '{"prompt": "…"}');
      return { ok: true, sample: { prompt: acc.text(o, 'prompt', '') }, characters: acc.characters, annotated: true };
    }
    case 'Text': {
      if (!isObject(value)) fail(CODE.mismatch, 'a Text sample must be {"text": "…"}');
      return { ok: true, sample: { text: acc.text(value, 'text', '') }, characters: acc.characters, annotated: true };
    }
    case 'SFT_FIM': {
      const o = singleObject(value, 'SFT_FIM', '{"prefix", "suffix", "middle"}');
      const sample: Obj = {};
      for (const key of ['prefix', 'suffix', 'middle']) {
        const part = o[key];
        if (typeof part !== 'string') fail(CODE.mismatch, part === undefined || part === null ? `"${key}" is missing` : `"${key}" must be a string`);
        acc.count(part);
        sample[key] = part;
      }
      if (isBlankString(sample.prefix as string) && isBlankString(sample.suffix as string) && isBlankString(sample.middle as string)) {
        fail(CODE.empty, '"prefix", "suffix" and "middle" are all empty');
      }
      return { ok: true, sample, characters: acc.characters, annotated: true };
    }
    case 'Role': {
      let list: unknown;
      if (Array.isArray(value)) list = value;
      else if (isObject(value)) list = value.messages;
      else fail(CODE.mismatch, 'a Role sample must be {"messages": [{"role", "content"}, …]}');
      const r = messages(acc, list, ctx.maxTurns, false);
      return withTurns(acc, { messages: r.messages }, true, r.from);
    }
    case 'PromptImage': {
      const o = singleObject(value, 'PromptImage', '{"prompt", "image"}');
      const prompt = acc.text(o, 'prompt', '');
      let image = o.image;
      if ((image === undefined || image === null) && ctx.siblingImage !== undefined) image = ctx.siblingImage;
      if (image === undefined || image === null) fail(CODE.mismatch, '"image" is missing');
      const location = imageLocation(acc, image, '"image"', ctx.images);
      return { ok: true, sample: { prompt, image: location }, characters: acc.characters, annotated: true };
    }
    case 'PromptImageResponse': {
      if (!isObject(value)) fail(CODE.mismatch, 'a PromptImageResponse sample must be {"images": […], "messages": […]}');
      const list = value.images;
      if (!Array.isArray(list)) fail(CODE.mismatch, list === undefined ? '"images" is missing' : '"images" must be an array');
      if (list.length === 0) fail(CODE.mismatch, '"images" is empty');
      const images = list.map((image, k) => imageLocation(acc, image, `"images"[${k}]`, ctx.images));
      const r = messages(acc, value.messages, ctx.maxTurns, true);
      checkPlaceholders(r.messages, images.length);
      return withTurns(acc, { images, messages: r.messages }, r.annotated, r.from);
    }
  }
}

/**
 * Checks and normalises one parsed value (a JSON line or element, or a csv/xlsx row object). `exact: false` promises
 * that no string holds a surrogate pair (see {@link mayHoldAstral}), which makes counting characters cheaper.
 */
export function normalise(format: DataFormat, value: unknown, ctx: ValidateContext, exact = true): Outcome {
  try {
    return run(format, value, ctx, new Acc(exact));
  } catch (error) {
    if (error instanceof Invalid) return { ok: false, code: error.code, reason: error.reason };
    throw error;
  }
}

/** A txt line as a sample: `{text}` for Text, `{prompt}` for Prompt (the caller skips blank lines). */
export function fromTextLine(format: DataFormat, line: string, exact = true): Outcome {
  const characters = exact ? codePoints(line) : line.length;
  if (format === 'Text') return { ok: true, sample: { text: line }, characters, annotated: true };
  if (format === 'Prompt') return { ok: true, sample: { prompt: line }, characters, annotated: true };
  return { ok: false, code: CODE.mismatch, reason: `a txt line cannot be a ${format} sample` };
}

/**
 * The columns of a csv/xlsx file per format, required and optional. Rows become bare objects (one-turn samples)
 * and go through {@link normalise}; an empty optional cell is absent, an empty required cell is empty text (13).
 */
export const TABULAR_COLUMNS: Partial<Record<DataFormat, { required: string[]; optional: string[]; oneOf?: string[] }>> = {
  PromptResponse: { required: ['prompt'], optional: ['system', 'response'] },
  DPO_PromptChosenRejected: { required: ['user', 'chosen', 'rejected'], optional: ['system'] },
  KTO_PromptChosenRejected: { required: ['user'], optional: ['system', 'chosen', 'rejected'], oneOf: ['chosen', 'rejected'] },
  Prompt: { required: ['prompt'], optional: [] },
  Text: { required: ['text'], optional: [] },
  SFT_FIM: { required: ['prefix', 'suffix', 'middle'], optional: [] },
  PromptImage: { required: ['prompt', 'image'], optional: [] },
};

const ESCAPED_SURROGATE = /\\u[dD][89abAB]/;

/**
 * Whether the strings parsed from this JSON text may hold surrogate pairs: its bytes had a 4-byte UTF-8 sequence
 * (`astralBytes`), or it escapes a surrogate (`\ud83d…`).
 */
export function mayHoldAstral(text: string, astralBytes: boolean): boolean {
  return astralBytes || (text.indexOf('\\u') !== -1 && ESCAPED_SURROGATE.test(text));
}
