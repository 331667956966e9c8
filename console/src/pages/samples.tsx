import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { readLink, type EntityItem } from '../api.js';
import { useApi } from '../context.js';
import { Empty, ErrorBox, Field, Loading, PageTitle, confirmed, useAction, useLoad, useT } from '../ui.js';

const PAGE_SIZE = 10;

type Turn = Record<string, unknown>;

/** What a sample holds, as far as the console can show it. */
type Parsed = { kind: 'conversation'; turns: Turn[] } | { kind: 'messages'; images: string[]; messages: { role: string; content: string }[] } | { kind: 'text'; text: string };

/** A sample as its download link answers it: its JSONL line (a plain text line for some formats). */
function parseSample(raw: string): Parsed {
  try {
    return parseValue(JSON.parse(raw));
  } catch {
    return { kind: 'text', text: raw };
  }
}

function parseValue(value: unknown): Parsed {
  if (Array.isArray(value) && value.length > 0 && value.every((turn) => typeof turn === 'object' && turn !== null && !Array.isArray(turn))) {
    return { kind: 'conversation', turns: value as Turn[] };
  }
  if (typeof value === 'object' && value !== null && Array.isArray((value as Turn).messages)) {
    const v = value as { images?: unknown; messages: unknown[] };
    return {
      kind: 'messages',
      images: Array.isArray(v.images) ? v.images.filter((i): i is string => typeof i === 'string') : [],
      messages: v.messages.map((m) => ({ role: String((m as Turn)?.role ?? ''), content: String((m as Turn)?.content ?? '') })),
    };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { kind: 'conversation', turns: [value as Turn] };
  return { kind: 'text', text: typeof value === 'string' ? value : JSON.stringify(value, null, 2) };
}

/** A response as text: `"r"`, `[["r"]]` (the SDK's form) or ranked `[["a"],["b"]]` (one per line). */
function responseText(response: unknown): string {
  if (typeof response === 'string') return response;
  if (Array.isArray(response)) return response.map((r) => (Array.isArray(r) ? r.join('') : String(r))).join('\n');
  return response === undefined ? '' : JSON.stringify(response);
}

const TURN_FIELDS = ['system', 'prompt', 'user', 'assistant', 'chosen', 'rejected'] as const;

/** Samples of a version (the entity API): paging, the annotated/unannotated tabs, editing a response, deleting. */
export function SamplesPage({ versionId }: { versionId: string }) {
  const t = useT();
  const api = useApi();
  const [offset, setOffset] = useState(0);
  const [tabType, setTabType] = useState<0 | 1 | 2>(0);
  const list = useLoad(() => api.entity('list', { datasetId: versionId, offset, pageSize: PAGE_SIZE, tabType }), [api, versionId, offset, tabType]);
  const remove = useAction(async (id: string) => {
    await api.entity('delete', { id: [id], datasetId: versionId });
    await list.reload();
  });
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const page = Math.floor(offset / PAGE_SIZE) + 1;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <section>
      <p class="crumbs">
        <Link href="/datasets">{t('nav.datasets')}</Link> / <Link href={`/versions/${versionId}`}>{versionId}</Link> / {t('samples.title')}
      </p>
      <PageTitle>{t('samples.title')}</PageTitle>
      <div class="toolbar">
        <Field id="tab-type" label={t('samples.show')}>
          <select
            id="tab-type"
            value={String(tabType)}
            onChange={(e) => {
              setOffset(0);
              setTabType(Number(e.currentTarget.value) as 0 | 1 | 2);
            }}
          >
            <option value="0">{t('samples.all')}</option>
            <option value="1">{t('samples.annotated')}</option>
            <option value="2">{t('samples.unannotated')}</option>
          </select>
        </Field>
        {list.data ? (
          <p class="muted" role="status" data-testid="sample-count">
            {t('samples.count', { total: String(total), all: String(list.data.totalAll) })}
          </p>
        ) : null}
      </div>
      <ErrorBox error={list.error} />
      <ErrorBox error={remove.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : items.length === 0 && !list.error ? (
        <Empty title={t('samples.empty')}>
          {t('samples.emptyHint')} <Link href={`/versions/${versionId}`}>{t('samples.backToVersion')}</Link>
        </Empty>
      ) : (
        <ol class="samples" start={offset + 1}>
          {items.map((item) => (
            <Sample key={item.id} item={item} versionId={versionId} onChanged={list.reload} onDelete={() => confirmed(t('samples.deleteConfirm')) && void remove.run(item.id)} />
          ))}
        </ol>
      )}
      {total > PAGE_SIZE ? (
        <nav class="pager" aria-label={t('common.paging')}>
          <button type="button" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
            {t('common.previous')}
          </button>
          <span>{t('samples.page', { page: String(page), pages: String(pages) })}</span>
          <button type="button" disabled={offset + PAGE_SIZE >= total} onClick={() => setOffset(offset + PAGE_SIZE)}>
            {t('common.next')}
          </button>
        </nav>
      ) : null}
    </section>
  );
}

function Sample({ item, versionId, onChanged, onDelete }: { item: EntityItem; versionId: string; onChanged: () => Promise<void>; onDelete: () => void }) {
  const t = useT();
  const api = useApi();
  // The list carries a small sample inline; a large one is read through its own signed link.
  const content = useLoad(async () => (item.content !== null && item.content !== undefined ? parseValue(item.content) : parseSample(await readLink(item.url))), [item]);
  const [editing, setEditing] = useState<string | undefined>();
  const save = useAction(async (turns: Turn[], text: string) => {
    const edited = turns.map((turn, i) => (i === turns.length - 1 ? { ...turn, response: [[text]] } : turn));
    await api.entity('annotate', { id: item.id, datasetId: versionId, content: edited });
    setEditing(undefined);
    await onChanged();
  });
  const parsed = content.data;
  const turns = parsed?.kind === 'conversation' ? parsed.turns : undefined;
  const editable = turns !== undefined && turns.length > 0;
  const last = turns?.[turns.length - 1];

  return (
    <li class="sample card" data-testid="sample" data-sample-id={item.id}>
      <div class="sample-head">
        <code class="muted">{item.id}</code>
        <span class={`badge ${item.annotated ? 'badge-ok' : 'badge-idle'}`}>{item.annotated ? t('samples.annotated') : t('samples.unannotated')}</span>
        {(item.labels ?? []).map((l) => (
          <span class="badge badge-idle" key={l.label_id ?? l.name}>
            {l.name}
          </span>
        ))}
      </div>
      <ErrorBox error={content.error} />
      {content.loading && !parsed ? <Loading /> : null}
      {parsed?.kind === 'conversation'
        ? parsed.turns.map((turn, i) => (
            <div class="turn" key={i}>
              {TURN_FIELDS.filter((f) => turn[f] !== undefined).map((f) => (
                <p key={f}>
                  <span class="role">{t(`samples.${f}`)}</span> <span class="text">{String(turn[f])}</span>
                </p>
              ))}
              {turn.response !== undefined && !(editing !== undefined && i === parsed.turns.length - 1) ? (
                <p>
                  <span class="role">{t('samples.response')}</span> <span class="text" data-testid="response">{responseText(turn.response)}</span>
                </p>
              ) : null}
            </div>
          ))
        : null}
      {parsed?.kind === 'messages' ? (
        <div class="turn">
          {(item.imageUrls.length > 0 ? item.imageUrls : parsed.images).map((src) =>
            /^(https?:|data:image\/)/.test(src) ? <img key={src} src={src} alt={t('samples.image')} loading="lazy" /> : <code key={src}>{src}</code>,
          )}
          {parsed.messages.map((m, i) => (
            <p key={i}>
              <span class="role">{m.role}</span> <span class="text">{m.content}</span>
            </p>
          ))}
        </div>
      ) : null}
      {parsed?.kind !== 'messages' && item.imageUrls.length > 0 ? (
        <div class="turn">
          {item.imageUrls.map((src) => (
            <img key={src} src={src} alt={t('samples.image')} loading="lazy" />
          ))}
        </div>
      ) : null}
      {parsed?.kind === 'text' ? <pre class="text">{parsed.text}</pre> : null}
      {editing !== undefined && turns ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void save.run(turns, editing);
          }}
        >
          <Field id={`edit-${item.id}`} label={t('samples.editResponse')}>
            <textarea id={`edit-${item.id}`} rows={4} required value={editing} onInput={(e) => setEditing(e.currentTarget.value)} />
          </Field>
          <div class="actions">
            <button type="submit" class="primary" disabled={save.busy}>
              {save.busy ? t('common.working') : t('samples.save')}
            </button>
            <button type="button" onClick={() => setEditing(undefined)}>
              {t('common.cancel')}
            </button>
          </div>
          <ErrorBox error={save.error} />
        </form>
      ) : (
        <div class="actions">
          {editable ? (
            <button type="button" onClick={() => setEditing(responseText(last?.response))}>
              {t('samples.edit')}
            </button>
          ) : null}
          <button type="button" class="danger" onClick={onDelete}>
            {t('common.delete')}
          </button>
        </div>
      )}
    </li>
  );
}
