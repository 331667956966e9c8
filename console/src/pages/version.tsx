import { useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import type { ExportTask, ImportTask, V1Result } from '../../../shared/client/types.js';
import { discoverEndpoints } from '../api.js';
import { useApi } from '../context.js';
import { rememberTask, rememberedTasks } from '../session.js';
import { Badge, Dl, Empty, ErrorBox, Field, Loading, PageTitle, Progress, confirmed, useAction, useLoad, usePoll, useT } from '../ui.js';
import { DEFAULT_DESTINATION, DestinationFields, destinationFields, type DestinationValue } from './destination.js';

/** How often a page with running work asks again. */
const POLL_MS = 1000;

type Info = V1Result<'info'>;
type ExportRecord = V1Result<'exportRecord'>[number];

/** `"42 %"` / `"100%"` / `"0"` → 42 / 100 / 0. */
function percent(progress: string): number {
  const n = Number.parseFloat(progress);
  return Number.isFinite(n) ? n : 0;
}

/**
 * A version: its status and counts, its imports (the newest one's rejected lines as a table, and every import started
 * from this tab with live progress), its exports with their downloads, and what can be done to it.
 */
export function VersionPage({ versionId }: { versionId: string }) {
  const t = useT();
  const api = useApi();
  const [, navigate] = useLocation();
  const version = useLoad(() => api.v2('DescribeDatasetVersion', { versionId }), [api, versionId]);
  const info = useLoad(() => api.v1('info', { datasetId: versionId }), [api, versionId]);
  const exports = useLoad(() => api.v1('exportRecord', { datasetId: versionId }), [api, versionId]);
  const [importIds, setImportIds] = useState(() => rememberedTasks('import', versionId));
  const imports = useLoad(() => Promise.all(importIds.map((taskId) => api.v2('DescribeImportTask', { taskId }))), [api, importIds.join(',')]);

  const v = version.data;
  const vi = info.data?.versionInfo;
  const running =
    v?.importStatus === 'Importing' ||
    vi?.importStatus === 1 ||
    vi?.exportStatus === 1 ||
    (imports.data ?? []).some((task) => task.importStatus === 'Importing') ||
    (exports.data ?? []).some((record) => record.status === 1);
  usePoll(running, POLL_MS, () => Promise.all([version.reload(), info.reload(), exports.reload(), imports.reload()]));

  const publish = useAction(async () => {
    await api.v2('PublishDatasetVersion', { versionId });
    await Promise.all([version.reload(), info.reload()]);
  });
  const remove = useAction(async () => {
    await api.v2('DeleteDatasetVersion', { versionId });
    navigate(v ? `/datasets/${v.datasetId}` : '/datasets');
  });

  return (
    <section>
      <p class="crumbs">
        <Link href="/datasets">{t('nav.datasets')}</Link>
        {v ? (
          <>
            {' / '}
            <Link href={`/datasets/${v.datasetId}`}>{v.datasetName}</Link>
          </>
        ) : null}
        {' / '}
        <code>{versionId}</code>
      </p>
      <PageTitle>{v ? `${v.datasetName} · V${v.versionNumber}` : t('version.title')}</PageTitle>
      <ErrorBox error={version.error} />
      {version.loading && !v ? <Loading /> : null}
      {v ? (
        <>
          <div class="actions">
            <Link class="button" href={`/versions/${versionId}/samples`}>
              {t('version.samplesLink')}
            </Link>
            <button type="button" disabled={publish.busy || v.publishStatus === 'Published'} onClick={() => void publish.run()}>
              {v.publishStatus === 'Published' ? t('version.published') : t('version.publishButton')}
            </button>
          </div>
          <ErrorBox error={publish.error} />
          <Dl
            rows={[
              [t('version.id'), <code>{v.versionId}</code>],
              [t('datasets.format'), v.dataFormat],
              [t('version.import'), <Badge status={v.importStatus} />],
              [t('version.publish'), <Badge status={v.publishStatus} />],
              [t('version.samples'), String(v.sampleCount)],
              [t('version.characters'), String(v.characterCount)],
              [t('version.size'), `${v.sizeMB} MB`],
              [t('datasets.storage'), t(v.storageType === 'BOS' ? 'storage.BOS' : 'storage.sysStorage')],
              [t('version.storagePath'), vi ? <code>{`bos:${vi.storage.storagePath}`}</code> : v.storagePath],
              [t('version.imports'), vi ? String(vi.importRecordCount) : ''],
              [t('version.exports'), vi ? String(vi.exportRecordCount) : ''],
              [t('dataset.description'), v.description ?? ''],
              [t('version.created'), v.createTime],
              [t('version.modified'), v.modifyTime],
            ]}
          />
        </>
      ) : null}

      <h2>{t('version.importsTitle')}</h2>
      <ErrorBox error={info.error} />
      {vi ? <NewestImport info={vi} /> : null}
      <ImportErrors versionId={versionId} errorInfo={vi?.importErrorInfo ?? null} />
      <ErrorBox error={imports.error} />
      <ImportTasks tasks={imports.data ?? []} />
      <ImportForm
        versionId={versionId}
        onStarted={(taskId) => {
          rememberTask('import', versionId, taskId);
          setImportIds(rememberedTasks('import', versionId));
          void info.reload();
          void version.reload();
        }}
      />

      <h2>{t('version.exportsTitle')}</h2>
      <ErrorBox error={exports.error} />
      <ExportRecords records={exports.data} loading={exports.loading} />
      <ExportForm
        versionId={versionId}
        onStarted={() => {
          void exports.reload();
          void info.reload();
        }}
      />

      <div class="card danger">
        <h2>{t('version.delete')}</h2>
        <button type="button" class="danger" disabled={remove.busy} onClick={() => confirmed(t('version.deleteConfirm')) && void remove.run()}>
          {t('version.deleteButton')}
        </button>
        <ErrorBox error={remove.error} />
      </div>
    </section>
  );
}

function NewestImport({ info }: { info: Info['versionInfo'] }) {
  const t = useT();
  const status = info.importStatus;
  if (status === -1) {
    return <Empty title={t('version.noImport')}>{t('version.noImportHint')}</Empty>;
  }
  return (
    <p class="newest" data-testid="newest-import">
      {t('version.newestImport')} <Badge status={String(status)} />{' '}
      {status === 1 ? <Progress value={info.importProgress} label={t('version.importProgress')} /> : null}
      {info.importErrorInfo ? (
        <span class="warn">
          {' '}
          {t('version.rejected', { count: String(info.importErrorInfo.errorCount) })}
        </span>
      ) : null}
    </p>
  );
}

interface ErrorRow {
  code: number;
  file: string;
  line: number;
  reason: string;
}

/** The newest import's rejected lines (V1 importErrorDetail, one call per error code), as a table. */
function ImportErrors({ versionId, errorInfo }: { versionId: string; errorInfo: { errorCount: number; errCodes: Record<string, number> } | null }) {
  const t = useT();
  const api = useApi();
  const codes = Object.keys(errorInfo?.errCodes ?? {})
    .map(Number)
    .filter((c) => Number.isInteger(c) && c >= 1 && c <= 99)
    .sort((a, b) => a - b);
  const rows = useLoad(async (): Promise<{ rows: ErrorRow[]; reportUrl: string }> => {
    const details = await Promise.all(codes.map(async (code) => ({ code, detail: await api.v1('importErrorDetail', { datasetId: versionId, errCode: code }) })));
    return {
      rows: details.flatMap(({ code, detail }) => detail.content.map((c) => ({ code, file: c.sampleFileName, line: c.textLocation, reason: c.textContent }))).sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line),
      reportUrl: details.find((d) => d.detail.downloadUrl)?.detail.downloadUrl ?? '',
    };
  }, [api, versionId, codes.join(',')]);
  if (codes.length === 0) return null;
  return (
    <div class="card" aria-labelledby="errors-title">
      <h3 id="errors-title">{t('errors.title', { count: String(errorInfo?.errorCount ?? 0) })}</h3>
      <p class="muted">{t('errors.intro')}</p>
      <ErrorBox error={rows.error} />
      {rows.loading && !rows.data ? <Loading /> : null}
      {rows.data ? (
        <>
          <div class="table-wrap">
            <table data-testid="error-table">
              <thead>
                <tr>
                  <th scope="col">{t('errors.code')}</th>
                  <th scope="col">{t('errors.file')}</th>
                  <th scope="col" class="num">
                    {t('errors.line')}
                  </th>
                  <th scope="col">{t('errors.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.data.rows.map((r) => (
                  <tr key={`${r.code}:${r.file}:${r.line}`}>
                    <td>
                      <code>{r.code}</code>
                    </td>
                    <td>
                      <code>{r.file}</code>
                    </td>
                    <td class="num">{r.line}</td>
                    <td>{r.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {rows.data.rows.length < (errorInfo?.errorCount ?? 0) ? <p class="muted">{t('errors.truncated')}</p> : null}
          {rows.data.reportUrl ? (
            <p>
              <a href={rows.data.reportUrl} download>
                {t('errors.report')}
              </a>
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function ImportTasks({ tasks }: { tasks: ImportTask[] }) {
  const t = useT();
  if (tasks.length === 0) return null;
  return (
    <div class="table-wrap">
      <table data-testid="import-tasks">
        <caption>{t('imports.thisTab')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('imports.task')}</th>
            <th scope="col">{t('imports.status')}</th>
            <th scope="col">{t('imports.progress')}</th>
            <th scope="col" class="num">
              {t('version.samples')}
            </th>
            <th scope="col" class="num">
              {t('imports.errors')}
            </th>
            <th scope="col">{t('imports.finished')}</th>
            <th scope="col">{t('imports.report')}</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.taskId}>
              <td>
                <code>{task.taskId}</code>
              </td>
              <td>
                <Badge status={task.importStatus} />
                {task.failureReason ? <div class="warn">{task.failureReason}</div> : null}
              </td>
              <td>
                <Progress value={percent(task.progress)} label={`${t('imports.progress')} ${task.taskId}`} />
              </td>
              <td class="num">{task.sampleCount}</td>
              <td class="num">{task.errorCount}</td>
              <td>{task.finishTime}</td>
              <td>
                {task.errDownloadUrl ? (
                  <a href={task.errDownloadUrl} download>
                    {t('imports.download')}
                  </a>
                ) : (
                  '—'
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Import from a bucket the account owns or was granted: a directory (ending in "/") or one file already there, or
 * files uploaded from this computer first (through the local twin's BOS-compatible endpoint, where there is one).
 */
function ImportForm({ versionId, onStarted }: { versionId: string; onStarted: (taskId: string) => void }) {
  const t = useT();
  const api = useApi();
  const buckets = useLoad(() => api.buckets('DescribeBuckets', {}), [api]);
  const endpoints = useLoad(() => discoverEndpoints(api.baseUrl), [api]);
  const [mode, setMode] = useState<'path' | 'upload'>('path');
  const [bucket, setBucket] = useState('');
  const [path, setPath] = useState('');
  const [dir, setDir] = useState('uploads/');
  const [files, setFiles] = useState<File[]>([]);
  const [sent, setSent] = useState<Record<string, number>>({});
  const chosen = bucket || buckets.data?.buckets[0]?.bucket || '';
  const objects = endpoints.data?.objects;
  const prefix = dir.trim().replace(/^\/+/, '').replace(/([^/])$/, '$1/');
  const start = useAction(async () => {
    let sources: string[];
    if (mode === 'upload') {
      if (!objects) throw new Error(t('imports.noUpload'));
      setSent({});
      for (const file of files) {
        await api.putObject(objects, chosen, `${prefix}${file.name}`, file, (bytes, total) => setSent((s) => ({ ...s, [file.name]: total ? (bytes / total) * 100 : 100 })));
        setSent((s) => ({ ...s, [file.name]: 100 }));
      }
      sources = files.map((file) => `bos:/${chosen}/${prefix}${file.name}`);
    } else {
      sources = [`bos:/${chosen}/${path.trim().replace(/^\/+/, '')}`];
    }
    const taskId = await api.v2('CreateImportTask', { versionId, files: sources });
    setPath('');
    setFiles([]);
    onStarted(taskId);
  });
  const list = buckets.data?.buckets ?? [];
  return (
    <form
      class="card"
      aria-labelledby="import-title"
      onSubmit={(e) => {
        e.preventDefault();
        void start.run();
      }}
    >
      <h3 id="import-title">{t('imports.new')}</h3>
      <ErrorBox error={buckets.error} />
      {buckets.data && list.length === 0 ? (
        <Empty title={t('imports.noBuckets')}>
          {t('imports.noBucketsHint')} <Link href="/buckets">{t('nav.buckets')}</Link>
        </Empty>
      ) : (
        <>
          <fieldset class="choice">
            <legend>{t('imports.source')}</legend>
            <label>
              <input type="radio" name="import-mode" value="path" checked={mode === 'path'} onChange={() => setMode('path')} /> {t('imports.fromBucket')}
            </label>
            <label>
              <input type="radio" name="import-mode" value="upload" checked={mode === 'upload'} disabled={!objects} aria-describedby="upload-note" onChange={() => setMode('upload')} />{' '}
              {t('imports.fromComputer')}
            </label>
            {!objects && endpoints.data ? (
              <small class="hint" id="upload-note">
                {t('imports.noUpload')}
              </small>
            ) : null}
          </fieldset>
          <div class="row">
            <Field id="import-bucket" label={t('imports.bucket')}>
              <select id="import-bucket" value={chosen} onChange={(e) => setBucket(e.currentTarget.value)}>
                {list.map((b) => (
                  <option key={b.bucket} value={b.bucket}>
                    {b.bucket}
                    {b.role === 'grantee' ? ` (${t('buckets.granted')})` : ''}
                  </option>
                ))}
              </select>
            </Field>
            {mode === 'path' ? (
              <Field id="import-path" label={t('imports.path')} hint={t('imports.pathHint')}>
                <input id="import-path" required placeholder="sft/train.jsonl" aria-describedby="import-path-hint" value={path} onInput={(e) => setPath(e.currentTarget.value)} />
              </Field>
            ) : (
              <>
                <Field id="upload-dir" label={t('imports.uploadDir')}>
                  <input id="upload-dir" required value={dir} onInput={(e) => setDir(e.currentTarget.value)} />
                </Field>
                <Field id="upload-files" label={t('imports.files')} hint={t('imports.filesHint')}>
                  <input id="upload-files" type="file" multiple required aria-describedby="upload-files-hint" onChange={(e) => setFiles([...(e.currentTarget.files ?? [])])} />
                </Field>
              </>
            )}
          </div>
          {mode === 'path' ? (
            <p class="muted">
              {t('imports.willImport')} <code>{`bos:/${chosen}/${path.trim().replace(/^\/+/, '')}`}</code>
            </p>
          ) : (
            <ul class="uploads" aria-label={t('imports.uploadList')}>
              {files.map((file) => (
                <li key={file.name}>
                  <code>{`bos:/${chosen}/${prefix}${file.name}`}</code> <Progress value={sent[file.name] ?? 0} label={`${t('imports.uploaded')} ${file.name}`} />
                </li>
              ))}
            </ul>
          )}
          <button type="submit" class="primary" disabled={start.busy || !chosen || (mode === 'upload' && files.length === 0)}>
            {start.busy ? t('common.working') : mode === 'upload' ? t('imports.uploadAndImport') : t('imports.start')}
          </button>
        </>
      )}
      <ErrorBox error={start.error} />
    </form>
  );
}

function ExportRecords({ records, loading }: { records: ExportRecord[] | undefined; loading: boolean }) {
  const t = useT();
  if (loading && !records) return <Loading />;
  if (!records) return null;
  if (records.length === 0) return <Empty title={t('exports.empty')}>{t('exports.emptyHint')}</Empty>;
  return (
    <div class="table-wrap">
      <table data-testid="export-records">
        <thead>
          <tr>
            <th scope="col">{t('exports.id')}</th>
            <th scope="col">{t('exports.status')}</th>
            <th scope="col" class="num">
              {t('version.samples')}
            </th>
            <th scope="col" class="num">
              {t('version.size')}
            </th>
            <th scope="col">{t('export.destination')}</th>
            <th scope="col">{t('exports.started')}</th>
            <th scope="col">{t('exports.finished')}</th>
            <th scope="col">{t('exports.download')}</th>
          </tr>
        </thead>
        <tbody>
          {[...records]
            .sort((a, b) => b.id - a.id)
            .map((r) => (
              <tr key={r.id}>
                <td>{r.id}</td>
                <td>
                  <Badge status={String(r.status)} />
                </td>
                <td class="num">{r.recordNum}</td>
                <td class="num">{r.size} MB</td>
                <td>{r.exportTo === 1 ? <code>{r.storagePath || r.storageId}</code> : t('storage.sysStorage')}</td>
                <td>{r.startTime}</td>
                <td>{r.finishTime}</td>
                <td>
                  {r.status === 2 && r.downloadUrl ? (
                    <a href={r.downloadUrl} download data-testid="export-download">
                      {t('exports.downloadZip')}
                    </a>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
        </tbody>
      </table>
    </div>
  );
}

function ExportForm({ versionId, onStarted }: { versionId: string; onStarted: (task: string) => void }) {
  const t = useT();
  const api = useApi();
  const [destination, setDestination] = useState<DestinationValue>(DEFAULT_DESTINATION);
  const [last, setLast] = useState<ExportTask | undefined>();
  const start = useAction(async () => {
    const taskId = await api.v2('CreateExportTask', { versionId, ...destinationFields(destination) });
    rememberTask('export', versionId, taskId);
    setLast(await api.v2('DescribeExportTask', { taskId }));
    onStarted(taskId);
  });
  return (
    <form
      class="card"
      aria-labelledby="export-title"
      onSubmit={(e) => {
        e.preventDefault();
        void start.run();
      }}
    >
      <h3 id="export-title">{t('exports.new')}</h3>
      <DestinationFields prefix="export" value={destination} onChange={setDestination} />
      <button type="submit" class="primary" disabled={start.busy}>
        {start.busy ? t('common.working') : t('exports.start')}
      </button>
      {last ? (
        <p role="status">
          {t('exports.startedTask')} <code>{last.taskId}</code>
        </p>
      ) : null}
      <ErrorBox error={start.error} />
    </form>
  );
}
