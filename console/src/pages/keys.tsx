import { useState } from 'preact/hooks';
import type { IssuedAccessKey } from '../../../shared/client/types.js';
import { POLICY_NAMES, type PolicyName } from '../../../shared/keys/policies.js';
import { useApi } from '../context.js';
import { Badge, Empty, ErrorBox, Field, Loading, PageTitle, confirmed, useAction, useLoad, useT } from '../ui.js';

/** The account's access keys (a qfdata extension; only full-control keys may manage keys). */
export function KeysPage() {
  const t = useT();
  const api = useApi();
  const list = useLoad(() => api.keys('DescribeAccessKeys', {}), [api]);
  const [issued, setIssued] = useState<IssuedAccessKey | undefined>();
  const [policy, setPolicy] = useState<PolicyName>('QfdataReadOnlyAccessPolicy');
  const [description, setDescription] = useState('');
  const create = useAction(async () => {
    setIssued(await api.keys('CreateAccessKey', { policy, ...(description.trim() ? { description: description.trim() } : {}) }));
    setDescription('');
    await list.reload();
  });
  const act = useAction(async (action: 'DisableAccessKey' | 'EnableAccessKey' | 'RotateAccessKey' | 'DeleteAccessKey', accessKeyId: string) => {
    const result = await api.keys(action, { accessKeyId });
    if (action === 'RotateAccessKey') setIssued(result as IssuedAccessKey);
    await list.reload();
  });
  const keys = list.data?.accessKeys ?? [];
  const own = api.credentials.accessKeyId;
  return (
    <section>
      <PageTitle>{t('keys.title')}</PageTitle>
      <p class="muted">{t('keys.intro')}</p>
      <ErrorBox error={list.error} />
      <ErrorBox error={act.error} />
      {issued ? (
        <div class="card notice" role="status">
          <h2>{t('keys.issued')}</h2>
          <p>{t('keys.issuedHint')}</p>
          <p>
            {t('signin.accessKeyId')} <code data-testid="issued-ak">{issued.accessKeyId}</code>
          </p>
          <p>
            {t('signin.secretAccessKey')} <code data-testid="issued-sk">{issued.secretAccessKey}</code>
          </p>
          <button type="button" onClick={() => setIssued(undefined)}>
            {t('keys.dismiss')}
          </button>
        </div>
      ) : null}
      {list.loading && !list.data ? (
        <Loading />
      ) : keys.length === 0 && !list.error ? (
        <Empty title={t('keys.empty')} />
      ) : keys.length > 0 ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('signin.accessKeyId')}</th>
                <th scope="col">{t('keys.policy')}</th>
                <th scope="col">{t('keys.state')}</th>
                <th scope="col">{t('dataset.description')}</th>
                <th scope="col">{t('version.created')}</th>
                <th scope="col">
                  <span class="sr-only">{t('common.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr key={k.accessKeyId}>
                  <td>
                    <code>{k.accessKeyId}</code>
                    {k.accessKeyId === own ? <small class="muted"> ({t('keys.thisKey')})</small> : null}
                  </td>
                  <td>{k.policy}</td>
                  <td>
                    <Badge status={k.enabled ? 'Enabled' : 'Disabled'} />
                  </td>
                  <td>{k.description}</td>
                  <td>{k.createTime}</td>
                  <td class="actions">
                    <button type="button" class="small" disabled={act.busy} onClick={() => void act.run(k.enabled ? 'DisableAccessKey' : 'EnableAccessKey', k.accessKeyId)}>
                      {k.enabled ? t('keys.disable') : t('keys.enable')}
                    </button>
                    <button type="button" class="small" disabled={act.busy} onClick={() => confirmed(t('keys.rotateConfirm')) && void act.run('RotateAccessKey', k.accessKeyId)}>
                      {t('keys.rotate')}
                    </button>
                    <button type="button" class="small danger" disabled={act.busy} onClick={() => confirmed(t('keys.deleteConfirm')) && void act.run('DeleteAccessKey', k.accessKeyId)}>
                      {t('common.delete')}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <form
        class="card"
        aria-labelledby="new-key"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run();
        }}
      >
        <h2 id="new-key">{t('keys.create')}</h2>
        <div class="row">
          <Field id="key-policy" label={t('keys.policy')}>
            <select id="key-policy" value={policy} onChange={(e) => setPolicy(e.currentTarget.value as PolicyName)}>
              {POLICY_NAMES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </Field>
          <Field id="key-description" label={t('dataset.description')}>
            <input id="key-description" maxLength={256} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </Field>
        </div>
        <button type="submit" disabled={create.busy}>
          {create.busy ? t('common.working') : t('keys.createButton')}
        </button>
        <ErrorBox error={create.error} />
      </form>
    </section>
  );
}
