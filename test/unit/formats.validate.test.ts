import { describe, expect, it } from 'vitest';
import { jsonText, type ImportRecord } from '../../shared/formats/index.js';
import { normalise } from '../../shared/formats/validate.js';
import type { DataFormat } from '../../shared/model.js';
import { collect, source } from './formats.helpers.js';

/** The one record (or notice + sample) a single JSONL line gives. */
async function line(format: DataFormat, value: unknown, name = 'd.jsonl'): Promise<ImportRecord> {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const { records, error } = await collect(source(name, text + '\n', 64), format);
  if (error) throw error;
  expect(records.filter((r) => r.kind !== 'notice')).toHaveLength(1);
  return records.find((r) => r.kind !== 'notice')!;
}

async function accepted(format: DataFormat, value: unknown): Promise<{ sample: unknown; annotated: boolean; characters: number }> {
  const record = await line(format, value);
  if (record.kind !== 'sample') throw new Error(`expected a sample, got ${JSON.stringify(record)}`);
  return record;
}

async function refused(format: DataFormat, value: unknown): Promise<{ code: number; reason: string }> {
  const record = await line(format, value);
  if (record.kind !== 'error') throw new Error(`expected an error, got ${JSON.stringify(record)}`);
  return { code: record.code, reason: record.reason };
}

describe('Formats: PromptResponse (spec §4)', () => {
  it.each([
    [
      'unannotated',
      [{ system: '你是…', prompt: '请根据下面的新闻生成摘要…' }],
      [{ system: '你是…', prompt: '请根据下面的新闻生成摘要…' }],
      false,
    ],
    [
      'single turn, response as a string',
      [{ system: '你是一个AI学习助手。', prompt: '我想了解一下机器学习是什么。', response: '机器学习是…' }],
      [{ system: '你是一个AI学习助手。', prompt: '我想了解一下机器学习是什么。', response: [['机器学习是…']] }],
      true,
    ],
    ['legacy [[str]] response', [{ prompt: 'a prompt', response: [['no response']] }], [{ prompt: 'a prompt', response: [['no response']] }], true],
    [
      'multi-turn with weights',
      [
        { prompt: '…', response: '…', weight: 1 },
        { prompt: '法国的首都是哪里', response: '巴黎', weight: 0 },
      ],
      [
        { prompt: '…', response: [['…']], weight: 1 },
        { prompt: '法国的首都是哪里', response: [['巴黎']], weight: 0 },
      ],
      true,
    ],
    ['a bare object is one turn', { prompt: 'p', response: 'r', id: 7 }, [{ prompt: 'p', response: [['r']] }], true],
    ['an empty last response is no response', [{ prompt: 'p', response: '' }], [{ prompt: 'p' }], false],
  ])('accepts %s', async (_what, value, expected, annotated) => {
    // Act
    const sample = await accepted('PromptResponse', value);
    // Assess
    expect(sample.sample).toEqual(expected);
    expect(sample.annotated).toBe(annotated);
  });

  it.each([
    ['a response that is a number', [{ prompt: 'p', response: 3 }], 9, 'turn 1: "response" must be a string or [[string]]'],
    ['two candidates', [{ prompt: 'p', response: [['a'], ['b']] }], 9, 'turn 1: "response" must be a string or [[string]]'],
    ['a turn 2 response that is an object', [{ prompt: 'a', response: 'b' }, { prompt: 'c', response: {} }], 9, 'turn 2: "response" must be a string or [[string]]'],
    ['an earlier turn without response', [{ prompt: 'a' }, { prompt: 'c', response: 'd' }], 9, 'turn 1: "response" is missing (only the last turn may have no response)'],
    ['a missing prompt', [{ response: 'r' }], 9, 'turn 1: "prompt" is missing'],
    ['an empty prompt', [{ prompt: '  ', response: 'r' }], 13, 'turn 1: "prompt" is empty'],
    ['system on turn 2', [{ prompt: 'a', response: 'b' }, { system: 's', prompt: 'c', response: 'd' }], 9, 'turn 2: "system" is only allowed on the first turn'],
    ['a weight of 2', [{ prompt: 'a', response: 'b', weight: 2 }], 9, 'turn 1: "weight" must be 0 or 1'],
    ['an empty array', [], 13, 'the sample has no turns'],
    ['a string', 'hello', 9, 'a PromptResponse sample must be an array of turn objects (or one turn object)'],
    ['a turn that is not an object', [{ prompt: 'a', response: 'b' }, 'x'], 9, 'turn 2 must be an object'],
  ])('refuses %s', async (_what, value, code, reason) => {
    // Act
    const error = await refused('PromptResponse', typeof value === 'string' ? JSON.stringify(value) : value);
    // Assess
    expect(error).toEqual({ code, reason });
  });
});

describe('Formats: a conversation given in its normal form', () => {
  const ctx = { maxTurns: 150 };
  const normal = (format: DataFormat, value: unknown, maxTurns = 150) => {
    const outcome = normalise(format, value, { maxTurns });
    if (!outcome.ok) throw new Error(outcome.reason);
    return outcome.sample;
  };

  it.each([
    ['PromptResponse', [{ prompt: 'p', response: [['r']] }]],
    ['PromptResponse', [{ system: 's', prompt: 'p', response: [['r']], weight: 1 }, { prompt: 'q' }]],
    ['PromptSortedresponses', [{ prompt: 'p', response: [['x']] }, { prompt: 'q', response: [['a'], ['b']], score: [1, 0] }]],
  ] as const)('is its own sample (%s %j)', (format, value) => {
    // Act
    const sample = normal(format, value);
    // Assess: the very value, so a JSON Lines line is stored as it came
    expect(sample).toBe(value);
    expect(jsonText(sample)).toBe(JSON.stringify(value));
  });

  it.each([
    ['keys in another order', 'PromptResponse', [{ response: [['r']], prompt: 'p' }], '[{"prompt":"p","response":[["r"]]}]'],
    ['a key it drops', 'PromptResponse', [{ prompt: 'p', response: [['r']], id: 7 }], '[{"prompt":"p","response":[["r"]]}]'],
    ['an empty system', 'PromptResponse', [{ system: '', prompt: 'p', response: [['r']] }], '[{"prompt":"p","response":[["r"]]}]'],
    ['a null weight', 'PromptResponse', [{ prompt: 'p', response: [['r']], weight: null }], '[{"prompt":"p","response":[["r"]]}]'],
    ['an empty last response', 'PromptResponse', [{ prompt: 'p', response: [['']] }], '[{"prompt":"p"}]'],
    ['a string response in a later turn', 'PromptResponse', [{ prompt: 'p', response: [['r']] }, { prompt: 'q', response: 's' }], '[{"prompt":"p","response":[["r"]]},{"prompt":"q","response":[["s"]]}]'],
    ['a bare turn object', 'PromptResponse', { prompt: 'p', response: [['r']] }, '[{"prompt":"p","response":[["r"]]}]'],
    ['scores before responses', 'PromptSortedresponses', [{ prompt: 'p', score: [1, 0], response: [['a'], ['b']] }], '[{"prompt":"p","response":[["a"],["b"]],"score":[1,0]}]'],
    ['a null score', 'PromptSortedresponses', [{ prompt: 'p', response: [['a'], ['b']], score: null }], '[{"prompt":"p","response":[["a"],["b"]]}]'],
  ] as const)('is written in the normal key order, without what it drops: %s', (_what, format, value, expected) => {
    // Act
    const sample = normal(format, value);
    // Assess
    expect(sample).not.toBe(value);
    expect(jsonText(sample)).toBe(expected);
  });

  it('is cut to maxTurns as a copy', () => {
    // Prepare
    const value = [
      { prompt: 'a', response: [['b']] },
      { prompt: 'c', response: [['d']] },
      { prompt: 'e', response: [['f']] },
    ];
    // Act
    const outcome = normalise('PromptResponse', value, { ...ctx, maxTurns: 2 });
    // Assess
    expect(outcome).toMatchObject({ ok: true, truncatedFrom: 3 });
    expect(jsonText((outcome as { sample: unknown }).sample)).toBe(JSON.stringify(value.slice(0, 2)));
    expect(value).toHaveLength(3);
  });
});

describe('Formats: PromptSortedresponses (spec §4)', () => {
  it('accepts the documented example with scores', async () => {
    // Prepare
    const value = [{ system: '…', prompt: '我想了解一下机器学习.', response: [['机器学习是跨学科的...'], ['机器学习是人工智能的分支...']], score: [1, 0] }];
    // Act
    const sample = await accepted('PromptSortedresponses', value);
    // Assess
    expect(sample.sample).toEqual(value);
    expect(sample.annotated).toBe(true);
  });

  it('accepts earlier turns with single responses and an unannotated last turn', async () => {
    // Act
    const sample = await accepted('PromptSortedresponses', [{ prompt: 'a', response: 'b' }, { prompt: 'c' }]);
    // Assess
    expect(sample.sample).toEqual([{ prompt: 'a', response: [['b']] }, { prompt: 'c' }]);
    expect(sample.annotated).toBe(false);
  });

  it.each([
    ['one candidate', [{ prompt: 'p', response: [['a']] }], 9, 'turn 1: "response" must list at least 2 ranked responses as [["…"],["…"]]'],
    ['a candidate that is a bare string', [{ prompt: 'p', response: [['a'], 'b'] }], 9, 'turn 1: response 2 must be ["string"]'],
    ['an empty candidate', [{ prompt: 'p', response: [['a'], ['']] }], 13, 'turn 1: response 2 is empty'],
    ['scores of the wrong length', [{ prompt: 'p', response: [['a'], ['b']], score: [1] }], 9, 'turn 1: "score" must be an array of 2 integers, one per response'],
    ['non-integer scores', [{ prompt: 'p', response: [['a'], ['b']], score: [1, 0.5] }], 9, 'turn 1: "score" must be an array of 2 integers, one per response'],
    ['a score on an earlier turn', [{ prompt: 'p', response: 'x', score: [1] }, { prompt: 'q', response: [['a'], ['b']] }], 9, 'turn 1: "score" is only allowed on the last turn'],
  ])('refuses %s', async (_what, value, code, reason) => {
    expect(await refused('PromptSortedresponses', value)).toEqual({ code, reason });
  });
});

describe('Formats: DPO and KTO (spec §4)', () => {
  it('accepts DPO single and multi-turn samples', async () => {
    // Prepare
    const single = [{ system: '…', user: 'hello', chosen: 'hi nice to meet you', rejected: 'leave me alone' }];
    const multi = [
      { system: 's', user: 'u1', assistant: 'a1' },
      { user: 'u2', chosen: 'c', rejected: 'r' },
    ];
    // Act
    const a = await accepted('DPO_PromptChosenRejected', single);
    const b = await accepted('DPO_PromptChosenRejected', multi);
    // Assess
    expect(a.sample).toEqual(single);
    expect(b.sample).toEqual(multi);
    expect(b.characters).toBe(1 + 2 + 2 + 2 + 1 + 1);
  });

  it.each([
    ['a missing rejected', [{ user: 'u', chosen: 'c' }], 9, 'turn 1: "rejected" is missing'],
    ['an empty chosen', [{ user: 'u', chosen: '', rejected: 'r' }], 13, 'turn 1: "chosen" is empty'],
    ['assistant on the last turn', [{ user: 'u', assistant: 'a' }], 9, 'turn 1: the last turn takes "chosen"/"rejected", not "assistant"'],
    ['chosen on an earlier turn', [{ user: 'u', assistant: 'a', chosen: 'c' }, { user: 'u', chosen: 'c', rejected: 'r' }], 9, 'turn 1: "chosen" is only allowed on the last turn'],
    ['an earlier turn without assistant', [{ user: 'u' }, { user: 'u', chosen: 'c', rejected: 'r' }], 9, 'turn 1: "assistant" is missing'],
  ])('refuses a DPO sample with %s', async (_what, value, code, reason) => {
    expect(await refused('DPO_PromptChosenRejected', value)).toEqual({ code, reason });
  });

  it('accepts KTO samples with exactly one of chosen / rejected', async () => {
    // Act
    const chosen = await accepted('KTO_PromptChosenRejected', [{ system: '…', user: '你好', chosen: '很高兴认识你' }]);
    const rejected = await accepted('KTO_PromptChosenRejected', [{ user: 'hello', rejected: 'leave me alone' }]);
    // Assess
    expect(chosen.sample).toEqual([{ system: '…', user: '你好', chosen: '很高兴认识你' }]);
    expect(rejected.sample).toEqual([{ user: 'hello', rejected: 'leave me alone' }]);
  });

  it.each([
    ['both', [{ user: 'u', chosen: 'c', rejected: 'r' }]],
    ['neither', [{ user: 'u' }]],
  ])('refuses a KTO sample with %s of chosen / rejected', async (_what, value) => {
    expect(await refused('KTO_PromptChosenRejected', value)).toEqual({
      code: 9,
      reason: 'turn 1: the last turn must have exactly one of "chosen" or "rejected"',
    });
  });
});

describe('Formats: Prompt, Text, SFT_FIM, Role', () => {
  it('normalises a Prompt from an object or a one-element array', async () => {
    expect((await accepted('Prompt', { prompt: '请根据下面的新闻生成摘要…' })).sample).toEqual({ prompt: '请根据下面的新闻生成摘要…' });
    expect((await accepted('Prompt', [{ prompt: 'old form' }])).sample).toEqual({ prompt: 'old form' });
    expect(await refused('Prompt', [{ prompt: 'a' }, { prompt: 'b' }])).toEqual({
      code: 9,
      reason: 'a Prompt sample must be {"prompt": "…"} (or a one-element array holding it)',
    });
    expect(await refused('Prompt', { prompt: '' })).toEqual({ code: 13, reason: '"prompt" is empty' });
  });

  it('accepts Text as {"text"} only', async () => {
    expect((await accepted('Text', { text: 'plain' })).sample).toEqual({ text: 'plain' });
    expect(await refused('Text', { prompt: 'x' })).toEqual({ code: 9, reason: '"text" is missing' });
  });

  it('accepts SFT_FIM {prefix, suffix, middle} (empty parts allowed, not all)', async () => {
    expect((await accepted('SFT_FIM', [{ prefix: 'def f(', suffix: ')', middle: '' }])).sample).toEqual({ prefix: 'def f(', suffix: ')', middle: '' });
    expect(await refused('SFT_FIM', { prefix: 'a', suffix: 'b' })).toEqual({ code: 9, reason: '"middle" is missing' });
    expect(await refused('SFT_FIM', { prefix: '', suffix: ' ', middle: '' })).toEqual({ code: 13, reason: '"prefix", "suffix" and "middle" are all empty' });
  });

  it('accepts Role messages as {"messages"} or a bare array, normalised to {"messages"}', async () => {
    // Prepare
    const messages = [
      { role: 'system', content: 's' },
      { role: 'user', content: 'u' },
      { role: 'assistant', content: 'a', name: 'dropped' },
    ];
    // Act
    const a = await accepted('Role', { messages });
    const b = await accepted('Role', messages.slice(1));
    // Assess
    expect(a.sample).toEqual({ messages: [messages[0], messages[1], { role: 'assistant', content: 'a' }] });
    expect(a.characters).toBe('systemsuseruassistanta'.length);
    expect(b.sample).toEqual({ messages: [messages[1], { role: 'assistant', content: 'a' }] });
  });

  it.each([
    ['ending with user', [{ role: 'user', content: 'u' }], 'the last message must be an "assistant" message'],
    ['starting with assistant', [{ role: 'assistant', content: 'a' }], 'message 1: expected a "user" message (user and assistant messages alternate, starting with user)'],
    ['two users in a row', [{ role: 'user', content: 'u' }, { role: 'user', content: 'v' }], 'message 2: expected a "assistant" message (user and assistant messages alternate, starting with user)'],
    ['system later', [{ role: 'user', content: 'u' }, { role: 'system', content: 's' }], 'message 2: a "system" message is only allowed first'],
    ['an unknown role', [{ role: 'tool', content: 'x' }], 'message 1: "role" must be "system", "user" or "assistant"'],
  ])('refuses Role messages %s', async (_what, messages, reason) => {
    expect(await refused('Role', { messages })).toEqual({ code: 9, reason });
  });

  it('truncates Role conversations to maxTurns user turns', async () => {
    // Prepare
    const messages = Array.from({ length: 151 }, (_, i) => [
      { role: 'user', content: `u${i}` },
      { role: 'assistant', content: `a${i}` },
    ]).flat();
    // Act
    const { records } = await collect(source('d.jsonl', JSON.stringify({ messages })), 'Role');
    // Assess
    expect(records[0]).toMatchObject({ kind: 'notice', code: 9, reason: 'truncated from 151 to 150 turns' });
    expect(records[1]).toMatchObject({ kind: 'sample' });
    expect((records[1] as { sample: { messages: unknown[] } }).sample.messages).toHaveLength(300);
  });
});

describe('Formats: image formats outside an archive', () => {
  it('accepts PromptImage with an http(s) URL or a data URI', async () => {
    expect((await accepted('PromptImage', { prompt: 'p', image: 'https://example.com/a.png' })).sample).toEqual({ prompt: 'p', image: 'https://example.com/a.png' });
    expect((await accepted('PromptImage', [{ prompt: 'p', image: 'data:image/png;base64,iVBORw0KGgo=' }])).sample).toEqual({
      prompt: 'p',
      image: 'data:image/png;base64,iVBORw0KGgo=',
    });
  });

  it.each([
    ['a relative path', 'images/a.jpg', '"image" "images/a.jpg" is a relative path, which only works for a file inside a zip or tar.gz archive'],
    ['another scheme', 'ftp://host/a.jpg', '"image": only http(s) URLs, data URIs and relative paths are accepted'],
    ['a data URI that is not an image', 'data:text/plain;base64,aGk=', '"image" must be a data:image/<type>;base64,… URI'],
    ['an unsupported image type', 'a.gif', '"image" "a.gif" must be a jpg, jpeg, png, bmp or webp image'],
  ])('refuses PromptImage with %s', async (_what, image, reason) => {
    expect(await refused('PromptImage', { prompt: 'p', image })).toEqual({ code: 9, reason });
  });

  it('accepts the PromptImageResponse example with URLs, and checks the placeholders', async () => {
    // Prepare
    const value = {
      images: ['https://example.com/海报.jpg'],
      messages: [
        { role: 'system', content: '…' },
        { role: 'user', content: '图片<ImageHere>中…?' },
        { role: 'assistant', content: '…' },
      ],
    };
    const two = {
      images: ['https://example.com/1.jpg', 'https://example.com/2.png'],
      messages: [{ role: 'user', content: '<Image1Here> vs <Image2Here>' }],
    };
    // Act
    const one = await accepted('PromptImageResponse', value);
    const unanswered = await accepted('PromptImageResponse', two);
    // Assess
    expect(one.sample).toEqual(value);
    expect(one.annotated).toBe(true);
    expect(unanswered.annotated).toBe(false);
  });

  it.each([
    ['more placeholders than images', ['https://e.com/1.jpg'], '<Image1Here><Image2Here>', 'the messages hold 2 image placeholder(s) but "images" lists 1'],
    ['a repeated numbered placeholder', ['https://e.com/1.jpg', 'https://e.com/2.jpg'], '<Image1Here><Image1Here>', 'placeholder <Image1Here> does not match one of the 2 images (each <ImageNHere> once, N from 1)'],
    ['<ImageHere> with two images', ['https://e.com/1.jpg', 'https://e.com/2.jpg'], '<ImageHere><Image2Here>', 'use <ImageHere> for a single image, <Image1Here>, <Image2Here>… for several'],
    ['no placeholder', ['https://e.com/1.jpg'], 'what is this?', 'the messages hold 0 image placeholder(s) but "images" lists 1'],
  ])('refuses PromptImageResponse with %s', async (_what, images, content, reason) => {
    // Prepare
    const value = { images, messages: [{ role: 'user', content }, { role: 'assistant', content: 'a' }] };
    // Act + Assess
    expect(await refused('PromptImageResponse', value)).toEqual({ code: 9, reason });
  });
});
