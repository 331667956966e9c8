import { useState } from 'preact/hooks';
import { Api, type Credentials } from '../api.js';
import { ErrorBox, Field, PageTitle, useAction, useT } from '../ui.js';

/** Asks for an access key once; checks it with one signed call before keeping it for this tab. */
export function SignInPage({ baseUrl, onSignIn }: { baseUrl: string; onSignIn: (c: Credentials) => void }) {
  const t = useT();
  const [accessKeyId, setAccessKeyId] = useState('');
  const [secretAccessKey, setSecretAccessKey] = useState('');
  const check = useAction(async (c: Credentials) => {
    await new Api(baseUrl, c).v2('DescribeDatasets', { maxKeys: 1 });
    onSignIn(c);
  });
  const submit = (e: Event) => {
    e.preventDefault();
    void check.run({ accessKeyId: accessKeyId.trim(), secretAccessKey: secretAccessKey.trim() });
  };
  return (
    <section class="signin">
      <PageTitle>{t('signin.title')}</PageTitle>
      <p>{t('signin.intro')}</p>
      <p class="muted">
        {t('signin.endpoint')} <code>{new URL(baseUrl).origin}</code>
      </p>
      <form onSubmit={submit} class="card">
        <Field id="ak" label={t('signin.accessKeyId')}>
          <input id="ak" name="accessKeyId" required autoComplete="username" spellcheck={false} value={accessKeyId} onInput={(e) => setAccessKeyId(e.currentTarget.value)} />
        </Field>
        <Field id="sk" label={t('signin.secretAccessKey')} hint={t('signin.secretHint')}>
          <input
            id="sk"
            name="secretAccessKey"
            type="password"
            required
            autoComplete="current-password"
            aria-describedby="sk-hint"
            value={secretAccessKey}
            onInput={(e) => setSecretAccessKey(e.currentTarget.value)}
          />
        </Field>
        <button type="submit" class="primary" disabled={check.busy}>
          {check.busy ? t('signin.checking') : t('signin.submit')}
        </button>
      </form>
      <ErrorBox error={check.error} title={t('signin.failed')} />
      <p class="muted">{t('signin.localHint')}</p>
    </section>
  );
}
