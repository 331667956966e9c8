import { useState } from 'preact/hooks';
import { Link } from 'wouter-preact';
import { useApi } from '../context.js';
import { Badge, Empty, ErrorBox, Field, Loading, MarkerPager, PageTitle, confirmed, useAction, useLoad, useMarkers, useT } from '../ui.js';
import { DEFAULT_DESTINATION, DestinationFields, destinationFields, type DestinationValue } from './destination.js';

const PAGE_SIZE = 20;

/** Every export schedule of the account (a qfdata extension), with deletion. */
export function SchedulesPage() {
  const t = useT();
  const api = useApi();
  const paging = useMarkers();
  const list = useLoad(() => api.v2('DescribeExportSchedules', { maxKeys: PAGE_SIZE, ...(paging.marker ? { marker: paging.marker } : {}) }), [api, paging.marker]);
  const remove = useAction(async (scheduleId: string) => {
    await api.v2('DeleteExportSchedule', { scheduleId });
    await list.reload();
  });
  const schedules = list.data?.schedules ?? [];
  return (
    <section>
      <PageTitle>{t('schedules.title')}</PageTitle>
      <p class="muted">{t('schedules.intro')}</p>
      <ErrorBox error={list.error} />
      <ErrorBox error={remove.error} />
      {list.loading && !list.data ? (
        <Loading />
      ) : schedules.length === 0 && !list.error ? (
        <Empty title={t('schedules.empty')}>{t('schedules.emptyHint')}</Empty>
      ) : schedules.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('schedules.id')}</th>
                <th scope="col">{t('datasets.id')}</th>
                <th scope="col">{t('schedules.expression')}</th>
                <th scope="col">{t('export.destination')}</th>
                <th scope="col">{t('schedules.status')}</th>
                <th scope="col">{t('schedules.next')}</th>
                <th scope="col">{t('schedules.last')}</th>
                <th scope="col">
                  <span class="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {schedules.map((s) => (
                <tr key={s.scheduleId}>
                  <td>
                    <code>{s.scheduleId}</code>
                  </td>
                  <td>
                    <Link href={`/datasets/${s.datasetId}`}>{s.datasetId}</Link>
                  </td>
                  <td>
                    <code>{s.expression}</code>
                  </td>
                  <td>{s.storageType === 'BOS' ? s.storagePath : t('storage.sysStorage')}</td>
                  <td>
                    <Badge status={s.status} /> {s.stopReason || s.lastSkipReason}
                  </td>
                  <td>{s.nextRunTime}</td>
                  <td>{s.lastRunTime}</td>
                  <td>
                    <button
                      type="button"
                      class="danger small"
                      disabled={remove.busy}
                      aria-label={`${t('common.delete')} ${s.scheduleId}`}
                      onClick={() => confirmed(t('schedules.deleteConfirm')) && void remove.run(s.scheduleId)}
                    >
                      {t('common.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <MarkerPager hasPrevious={paging.hasPrevious} hasNext={!!list.data?.pageInfo.isTruncated} onPrevious={paging.previous} onNext={() => list.data && paging.next(list.data.pageInfo.nextMarker)} />
    </section>
  );
}

/** A new export schedule of one dataset: of one version, or of its newest version at each run. */
export function ScheduleForm({ datasetId, versions }: { datasetId: string; versions: { versionId: string; versionNumber: number }[] }) {
  const t = useT();
  const api = useApi();
  const [expression, setExpression] = useState('rate(1 day)');
  const [versionId, setVersionId] = useState('');
  const [destination, setDestination] = useState<DestinationValue>(DEFAULT_DESTINATION);
  const [created, setCreated] = useState<{ scheduleId: string; nextRunTime: string } | undefined>();
  const create = useAction(async () => {
    setCreated(await api.v2('CreateExportSchedule', { datasetId, expression: expression.trim(), ...(versionId ? { versionId } : {}), ...destinationFields(destination) }));
  });
  return (
    <form
      class="card"
      aria-labelledby="new-schedule"
      onSubmit={(e) => {
        e.preventDefault();
        void create.run();
      }}
    >
      <h2 id="new-schedule">{t('schedules.create')}</h2>
      <div class="row">
        <Field id="schedule-expression" label={t('schedules.expression')} hint={t('schedules.expressionHint')}>
          <input id="schedule-expression" required aria-describedby="schedule-expression-hint" value={expression} onInput={(e) => setExpression(e.currentTarget.value)} />
        </Field>
        <Field id="schedule-version" label={t('schedules.version')}>
          <select id="schedule-version" value={versionId} onChange={(e) => setVersionId(e.currentTarget.value)}>
            <option value="">{t('schedules.newest')}</option>
            {versions.map((v) => (
              <option key={v.versionId} value={v.versionId}>
                V{v.versionNumber} ({v.versionId})
              </option>
            ))}
          </select>
        </Field>
      </div>
      <DestinationFields prefix="schedule" value={destination} onChange={setDestination} />
      <button type="submit" disabled={create.busy}>
        {create.busy ? t('common.working') : t('schedules.createButton')}
      </button>
      {created ? (
        <p role="status">
          {t('schedules.created')} <code>{created.scheduleId}</code> · {t('schedules.next')} {created.nextRunTime}
        </p>
      ) : null}
      <ErrorBox error={create.error} />
    </form>
  );
}
