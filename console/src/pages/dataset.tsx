import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import { useApi } from '../context.js';
import { Badge, Dl, Empty, ErrorBox, Field, Loading, MarkerPager, PageTitle, confirmed, useAction, useLoad, useMarkers, useT } from '../ui.js';
import { ScheduleForm } from './schedules.js';

const PAGE_SIZE = 20;

/** A dataset: its versions (paged), a new version, export schedules, deletion. */
export function DatasetPage({ datasetId }: { datasetId: string }) {
  const t = useT();
  const api = useApi();
  const [, navigate] = useLocation();
  const paging = useMarkers();
  const versions = useLoad(
    () => api.v2('DescribeDatasetVersions', { datasetId, maxKeys: PAGE_SIZE, ...(paging.marker ? { marker: paging.marker } : {}) }),
    [api, datasetId, paging.marker],
  );
  const [description, setDescription] = useState('');
  const createVersion = useAction(async () => {
    const created = await api.v2('CreateDatasetVersion', { datasetId, ...(description.trim() ? { description: description.trim() } : {}) });
    navigate(`/versions/${created.versionId}`);
  });
  const remove = useAction(async () => {
    await api.v2('DeleteDataset', { datasetId });
    navigate('/datasets');
  });
  const list = versions.data?.versions ?? [];
  const first = list[0];

  return (
    <section>
      <p class="crumbs">
        <Link href="/datasets">{t('nav.datasets')}</Link> / <code>{datasetId}</code>
      </p>
      <PageTitle>{first ? first.datasetName : t('dataset.title')}</PageTitle>
      <ErrorBox error={versions.error} />
      {first ? (
        <Dl
          rows={[
            [t('datasets.id'), <code>{datasetId}</code>],
            [t('datasets.format'), first.dataFormat],
            [t('datasets.storage'), t(first.storageType === 'BOS' ? 'storage.BOS' : 'storage.sysStorage')],
            [t('datasets.storagePath'), first.storagePath],
          ]}
        />
      ) : null}
      <h2>{t('dataset.versions')}</h2>
      {versions.loading && !versions.data ? (
        <Loading />
      ) : list.length === 0 && !versions.error ? (
        <Empty title={t('dataset.noVersions')}>{t('dataset.noVersionsHint')}</Empty>
      ) : list.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('version.number')}</th>
                <th scope="col">{t('version.id')}</th>
                <th scope="col">{t('version.import')}</th>
                <th scope="col">{t('version.publish')}</th>
                <th scope="col" class="num">
                  {t('version.samples')}
                </th>
                <th scope="col">{t('version.modified')}</th>
              </tr>
            </thead>
            <tbody>
              {list.map((v) => (
                <tr key={v.versionId}>
                  <td>
                    <Link href={`/versions/${v.versionId}`}>V{v.versionNumber}</Link>
                  </td>
                  <td>
                    <code>{v.versionId}</code>
                  </td>
                  <td>
                    <Badge status={v.importStatus} />
                  </td>
                  <td>
                    <Badge status={v.publishStatus} />
                  </td>
                  <td class="num">{v.sampleCount}</td>
                  <td>{v.modifyTime}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <MarkerPager
        hasPrevious={paging.hasPrevious}
        hasNext={!!versions.data?.pageInfo.isTruncated}
        onPrevious={paging.previous}
        onNext={() => versions.data && paging.next(versions.data.pageInfo.nextMarker)}
      />

      <form
        class="card"
        aria-labelledby="new-version"
        onSubmit={(e) => {
          e.preventDefault();
          void createVersion.run();
        }}
      >
        <h2 id="new-version">{t('dataset.newVersion')}</h2>
        <p class="muted">{t('dataset.newVersionHint')}</p>
        <Field id="version-description" label={t('dataset.description')}>
          <input id="version-description" maxLength={1024} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </Field>
        <button type="submit" disabled={createVersion.busy}>
          {createVersion.busy ? t('common.working') : t('dataset.createVersion')}
        </button>
        <ErrorBox error={createVersion.error} />
      </form>

      <ScheduleForm datasetId={datasetId} versions={list.map((v) => ({ versionId: v.versionId, versionNumber: v.versionNumber }))} />

      <div class="card danger">
        <h2>{t('dataset.delete')}</h2>
        <p class="muted">{t('dataset.deleteHint')}</p>
        <button type="button" class="danger" disabled={remove.busy} onClick={() => confirmed(t('dataset.deleteConfirm')) && void remove.run()}>
          {t('dataset.deleteButton')}
        </button>
        <ErrorBox error={remove.error} />
      </div>
    </section>
  );
}
