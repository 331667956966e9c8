import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { DATA_FORMATS, type DataFormat } from '../../../shared/model.js';
import { useApi } from '../context.js';
import { Empty, ErrorBox, Field, Loading, MarkerPager, PageTitle, useAction, useLoad, useMarkers, useT } from '../ui.js';

const PAGE_SIZE = 20;

/** Datasets: filter by name and format, marker paging, and a form to create one. */
export function DatasetsPage() {
  const t = useT();
  const api = useApi();
  const [name, setName] = useState('');
  const [format, setFormat] = useState<DataFormat | ''>('');
  const [filter, setFilter] = useState<{ name: string; format: DataFormat | '' }>({ name: '', format: '' });
  const paging = useMarkers();
  const list = useLoad(
    () =>
      api.v2('DescribeDatasets', {
        maxKeys: PAGE_SIZE,
        ...(paging.marker ? { marker: paging.marker } : {}),
        ...(filter.name || filter.format ? { filter: { ...(filter.name ? { datasetName: filter.name } : {}), ...(filter.format ? { dataFormatList: [filter.format] } : {}) } } : {}),
      }),
    [api, paging.marker, filter.name, filter.format],
  );
  const applyFilter = (e: Event) => {
    e.preventDefault();
    paging.reset();
    setFilter({ name: name.trim(), format });
  };
  const filtered = filter.name !== '' || filter.format !== '';
  const datasets = list.data?.datasets ?? [];

  return (
    <section>
      <PageTitle>{t('datasets.title')}</PageTitle>
      <form class="toolbar" role="search" onSubmit={applyFilter}>
        <Field id="filter-name" label={t('datasets.filterName')}>
          <input id="filter-name" type="search" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="filter-format" label={t('datasets.filterFormat')}>
          <select id="filter-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as DataFormat | '')}>
            <option value="">{t('datasets.anyFormat')}</option>
            {DATA_FORMATS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </Field>
        <button type="submit">{t('datasets.applyFilter')}</button>
      </form>
      <ErrorBox error={list.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : datasets.length === 0 && !list.error ? (
        <Empty title={filtered ? t('datasets.noMatch') : t('datasets.empty')}>{filtered ? t('datasets.noMatchHint') : t('datasets.emptyHint')}</Empty>
      ) : datasets.length > 0 ? (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">{t('datasets.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('datasets.name')}</th>
                <th scope="col">{t('datasets.id')}</th>
                <th scope="col">{t('datasets.format')}</th>
              </tr>
            </thead>
            <tbody>
              {datasets.map((d) => (
                <tr key={d.datasetId}>
                  <td>
                    <Link href={`/datasets/${d.datasetId}`}>{d.datasetName}</Link>
                  </td>
                  <td>
                    <code>{d.datasetId}</code>
                  </td>
                  <td>{d.dataFormat}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <MarkerPager
        hasPrevious={paging.hasPrevious}
        hasNext={!!list.data?.pageInfo.isTruncated}
        onPrevious={paging.previous}
        onNext={() => list.data && paging.next(list.data.pageInfo.nextMarker)}
      />
      <CreateDataset />
    </section>
  );
}

function CreateDataset() {
  const t = useT();
  const api = useApi();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [format, setFormat] = useState<DataFormat>('PromptResponse');
  const [storageType, setStorageType] = useState<'sysStorage' | 'BOS'>('sysStorage');
  const [storagePath, setStoragePath] = useState('');
  const create = useAction(async () => {
    const created = await api.v2('CreateDataset', {
      datasetName: name.trim(),
      dataFormat: format,
      storageType,
      ...(storageType === 'BOS' ? { storagePath: storagePath.trim() } : {}),
    });
    navigate(`/datasets/${created.datasetId}`);
  });
  return (
    <form
      class="card"
      aria-labelledby="create-dataset"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h2 id="create-dataset">{t('datasets.create')}</h2>
      <div class="row">
        <Field id="new-name" label={t('datasets.name')}>
          <input id="new-name" required maxLength={128} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <Field id="new-format" label={t('datasets.format')}>
          <select id="new-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as DataFormat)}>
            {DATA_FORMATS.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </Field>
        <Field id="new-storage" label={t('datasets.storage')}>
          <select id="new-storage" value={storageType} onChange={(e) => setStorageType(e.currentTarget.value as 'sysStorage' | 'BOS')}>
            <option value="sysStorage">{t('storage.sysStorage')}</option>
            <option value="BOS">{t('storage.BOS')}</option>
          </select>
        </Field>
        {storageType === 'BOS' ? (
          <Field id="new-path" label={t('datasets.storagePath')} hint={t('datasets.storagePathHint')}>
            <input id="new-path" required placeholder="bos:/my-bucket/dir/" aria-describedby="new-path-hint" value={storagePath} onInput={(e) => setStoragePath(e.currentTarget.value)} />
          </Field>
        ) : null}
      </div>
      <button type="submit" class="primary" disabled={create.busy}>
        {create.busy ? t('common.working') : t('datasets.createButton')}
      </button>
      <ErrorBox error={create.error} />
    </form>
  );
}
