import { Field, useT } from '../ui.js';

export interface DestinationValue {
  storageType: 'sysStorage' | 'BOS';
  storagePath: string;
  exportType: 1 | 2;
}

export const DEFAULT_DESTINATION: DestinationValue = { storageType: 'sysStorage', storagePath: '', exportType: 1 };

/** The request fields of a destination: `storagePath` only for a bucket. */
export function destinationFields(value: DestinationValue) {
  return { storageType: value.storageType, exportType: value.exportType, ...(value.storageType === 'BOS' ? { storagePath: value.storagePath.trim() } : {}) };
}

/** Where an export goes (platform storage or a bucket directory) and what it holds. */
export function DestinationFields({ prefix, value, onChange }: { prefix: string; value: DestinationValue; onChange: (v: DestinationValue) => void }) {
  const t = useT();
  return (
    <div class="row">
      <Field id={`${prefix}-storage`} label={t('export.destination')}>
        <select id={`${prefix}-storage`} value={value.storageType} onChange={(e) => onChange({ ...value, storageType: e.currentTarget.value as DestinationValue['storageType'] })}>
          <option value="sysStorage">{t('storage.sysStorage')}</option>
          <option value="BOS">{t('storage.BOS')}</option>
        </select>
      </Field>
      {value.storageType === 'BOS' ? (
        <Field id={`${prefix}-path`} label={t('datasets.storagePath')} hint={t('datasets.storagePathHint')}>
          <input id={`${prefix}-path`} required placeholder="bos:/my-bucket/exports/" aria-describedby={`${prefix}-path-hint`} value={value.storagePath} onInput={(e) => onChange({ ...value, storagePath: e.currentTarget.value })} />
        </Field>
      ) : null}
      <Field id={`${prefix}-type`} label={t('export.type')}>
        <select id={`${prefix}-type`} value={String(value.exportType)} onChange={(e) => onChange({ ...value, exportType: e.currentTarget.value === '2' ? 2 : 1 })}>
          <option value="1">{t('export.type1')}</option>
          <option value="2">{t('export.type2')}</option>
        </select>
      </Field>
    </div>
  );
}
