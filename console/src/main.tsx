/**
 * The qfdata web console: a static single-page app that signs every request with the user's access key in the page
 * (see ./api.ts). Routes live in the URL's hash, so the assets can be served from any path of any static host.
 */
import './style.css';
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { Link, Redirect, Route, Router, Switch } from 'wouter-preact';
import { useHashLocation } from 'wouter-preact/use-hash-location';
import { Api, type Credentials } from './api.js';
import { I18n, initialLanguage, storeLanguage, translator, type Language } from './i18n.js';
import { ApiContext } from './context.js';
import { clearSession, loadCredentials, saveCredentials } from './session.js';
import { BucketsPage } from './pages/buckets.js';
import { DatasetPage } from './pages/dataset.js';
import { DatasetsPage } from './pages/datasets.js';
import { KeysPage } from './pages/keys.js';
import { SamplesPage } from './pages/samples.js';
import { SchedulesPage } from './pages/schedules.js';
import { SignInPage } from './pages/signin.js';
import { VersionPage } from './pages/version.js';

/** The API's base URL: `<meta name="qfdata-api">` when the assets are hosted apart from it, else this page's origin. */
function apiBaseUrl(): string {
  const configured = document.querySelector<HTMLMetaElement>('meta[name="qfdata-api"]')?.content.trim();
  return configured ? new URL(configured, location.href).href : location.origin;
}

function App() {
  const [language, setLanguage] = useState<Language>(initialLanguage);
  const [credentials, setCredentials] = useState<Credentials | undefined>(loadCredentials);
  const base = useMemo(apiBaseUrl, []);
  const api = useMemo(() => (credentials ? new Api(base, credentials) : undefined), [base, credentials]);
  const i18n = useMemo(() => ({ language, t: translator(language) }), [language]);
  const t = i18n.t;
  document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');

  const switchLanguage = () => {
    const next: Language = language === 'zh' ? 'en' : 'zh';
    storeLanguage(next);
    setLanguage(next);
  };
  const signIn = (c: Credentials) => {
    saveCredentials(c);
    setCredentials(c);
  };
  const signOut = () => {
    clearSession();
    setCredentials(undefined);
  };

  return (
    <I18n.Provider value={i18n}>
      <Router hook={useHashLocation}>
        <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
          {t('nav.skip')}
        </a>
        <header class="top">
          <span class="brand">{t('app.name')}</span>
          {api ? (
            <nav aria-label={t('nav.label')} class="nav">
              <Link href="/datasets">{t('nav.datasets')}</Link>
              <Link href="/schedules">{t('nav.schedules')}</Link>
              <Link href="/buckets">{t('nav.buckets')}</Link>
              <Link href="/keys">{t('nav.keys')}</Link>
            </nav>
          ) : null}
          <span class="spacer" />
          <button type="button" class="link" onClick={switchLanguage} lang={language === 'zh' ? 'en' : 'zh-CN'} data-testid="language">
            {t('nav.otherLanguage')}
          </button>
          {api ? (
            <>
              <span class="muted who" title={t('nav.signedInAs')}>
                {api.credentials.accessKeyId}
              </span>
              <button type="button" class="link" onClick={signOut}>
                {t('nav.signOut')}
              </button>
            </>
          ) : null}
        </header>
        <main id="main" tabIndex={-1}>
          {api ? (
            <ApiContext.Provider value={api}>
              <Switch>
                <Route path="/datasets" component={DatasetsPage} />
                <Route path="/datasets/:datasetId">{(p) => <DatasetPage datasetId={p.datasetId} />}</Route>
                <Route path="/versions/:versionId">{(p) => <VersionPage versionId={p.versionId} />}</Route>
                <Route path="/versions/:versionId/samples">{(p) => <SamplesPage versionId={p.versionId} />}</Route>
                <Route path="/schedules" component={SchedulesPage} />
                <Route path="/buckets" component={BucketsPage} />
                <Route path="/keys" component={KeysPage} />
                <Route>
                  <Redirect to="/datasets" replace />
                </Route>
              </Switch>
            </ApiContext.Provider>
          ) : (
            <SignInPage baseUrl={base} onSignIn={signIn} />
          )}
        </main>
      </Router>
    </I18n.Provider>
  );
}

render(<App />, document.getElementById('app')!);
