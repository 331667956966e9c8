import { useState } from 'preact/hooks';
import { useApi } from '../context.js';
import { Empty, ErrorBox, Field, Loading, PageTitle, useAction, useLoad, useT } from '../ui.js';

/** The buckets the account owns or was granted (a qfdata extension): where imports read from. */
export function BucketsPage() {
  const t = useT();
  const api = useApi();
  const list = useLoad(() => api.buckets('DescribeBuckets', {}), [api]);
  const [name, setName] = useState('');
  const create = useAction(async () => {
    await api.buckets('CreateBucket', { bucket: name.trim() });
    setName('');
    await list.reload();
  });
  const buckets = list.data?.buckets ?? [];
  return (
    <section>
      <PageTitle>{t('buckets.title')}</PageTitle>
      <p class="muted">{t('buckets.intro')}</p>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : buckets.length === 0 && !list.error ? (
        <Empty title={t('buckets.empty')}>{t('buckets.emptyHint')}</Empty>
      ) : buckets.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('buckets.name')}</th>
                <th scope="col">{t('buckets.role')}</th>
                <th scope="col">{t('buckets.grants')}</th>
              </tr>
            </thead>
            <tbody>
              {buckets.map((b) => (
                <tr key={b.bucket}>
                  <td>
                    <code>{b.bucket}</code>
                  </td>
                  <td>{b.role === 'owner' ? t('buckets.owner') : t('buckets.granted')}</td>
                  <td>{(b.grants ?? []).join(', ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form
        class="card"
        aria-labelledby="new-bucket"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <h2 id="new-bucket">{t('buckets.create')}</h2>
        <Field id="bucket-name" label={t('buckets.name')} hint={t('buckets.nameHint')}>
          <input id="bucket-name" required aria-describedby="bucket-name-hint" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={create.busy}>
          {create.busy ? t('common.working') : t('buckets.createButton')}
        </button>
        <ErrorBox error={create.error} />
      </form>
    </section>
  );
}
