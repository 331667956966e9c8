/**
 * Small shared pieces of the console: data loading, errors (always the wire code and message), empty states,
 * labelled fields, paging and progress. Native elements only, so every control is keyboard-usable as it is.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { I18n, type MessageKey } from './i18n.js';

export function useT() {
  return useContext(I18n).t;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
}

/** Runs `load` now and whenever `deps` change; `reload` runs it again (keeping the data shown meanwhile). */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const generation = useRef(0);
  const run = useCallback(async () => {
    const mine = ++generation.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await load();
      if (mine === generation.current) setState({ data, error: undefined, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((s) => ({ data: s.data, error, loading: false }));
    }
  }, deps);
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    void run();
  }, [run]);
  return { ...state, reload: run };
}

/** Calls `tick` every `ms` while `active`. */
export function usePoll(active: boolean, ms: number, tick: () => unknown): void {
  const saved = useRef(tick);
  saved.current = tick;
  useEffect(() => {
    if (!active) return undefined;
    const timer = setInterval(() => void saved.current(), ms);
    return () => clearInterval(timer);
  }, [active, ms]);
}

/** An error as the server said it: its wire code and message (and request id, for a bug report). */
export function ErrorBox({ error, title }: { error: unknown; title?: string }) {
  const t = useT();
  if (error === undefined || error === null) return null;
  const api = error instanceof ApiError ? error : undefined;
  const code = api?.code ?? (error as Error)?.name ?? 'Error';
  const message = (error as Error)?.message ?? String(error);
  return (
    <div class="error" role="alert">
      <strong>{title ?? t('error.title')}</strong>{' '}
      <code class="error-code" data-testid="error-code">
        {code}
      </code>
      <span class="error-message" data-testid="error-message">
        {message}
      </span>
      {api?.requestId ? (
        <small class="muted">
          {' '}
          {t('error.requestId')} {api.requestId}
        </small>
      ) : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty" role="status">
      <p class="empty-title">{title}</p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

export function Loading() {
  const t = useT();
  return (
    <p class="muted" role="status" aria-live="polite">
      {t('common.loading')}
    </p>
  );
}

export function Field({ id, label, hint, children }: { id: string; label: string; hint?: string; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {hint ? (
        <small class="hint" id={`${id}-hint`}>
          {hint}
        </small>
      ) : null}
    </div>
  );
}

/** The page's heading: focused when the page opens, so keyboard and screen-reader users land on it. */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus({ preventScroll: false });
  }, []);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

export function Progress({ value, label }: { value: number; label: string }) {
  const clamped = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <span class="progress">
      <progress max={100} value={clamped} aria-label={label}>
        {clamped}%
      </progress>{' '}
      <span>{clamped}%</span>
    </span>
  );
}

/** A status word with a colour class by what it means (done, running, failed, idle). */
export function Badge({ status }: { status: string }) {
  const t = useT();
  const kind = /Fail|Disabled|Stopped|3$/.test(status) ? 'bad' : /ing$|Running|^1$/.test(status) ? 'busy' : /Finished|Published|Enabled|Active|^2$/.test(status) ? 'ok' : 'idle';
  const key = `status.${status}` as MessageKey;
  const label = t(key) === key ? status : t(key);
  return <span class={`badge badge-${kind}`}>{label}</span>;
}

/** A button that is busy (disabled, labelled so) while its action runs, and shows the action's error below. */
export function useAction<A extends unknown[]>(action: (...args: A) => Promise<unknown>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (...args: A) => {
    setBusy(true);
    setError(undefined);
    try {
      await action(...args);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, clear: () => setError(undefined) };
}

export function MarkerPager({ hasPrevious, hasNext, onPrevious, onNext }: { hasPrevious: boolean; hasNext: boolean; onPrevious: () => void; onNext: () => void }) {
  const t = useT();
  if (!hasPrevious && !hasNext) return null;
  return (
    <nav class="pager" aria-label={t('common.paging')}>
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>
        {t('common.previous')}
      </button>
      <button type="button" onClick={onNext} disabled={!hasNext}>
        {t('common.next')}
      </button>
    </nav>
  );
}

/** Marker paging: the markers of the pages before this one, so "previous" can go back. */
export function useMarkers() {
  const [markers, setMarkers] = useState<string[]>([]);
  const marker = markers[markers.length - 1];
  return {
    marker,
    page: markers.length + 1,
    hasPrevious: markers.length > 0,
    next: (nextMarker: string) => setMarkers((m) => [...m, nextMarker]),
    previous: () => setMarkers((m) => m.slice(0, -1)),
    reset: () => setMarkers([]),
  };
}

export function Dl({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {rows.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value === '' || value === undefined || value === null ? '—' : value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function confirmed(question: string): boolean {
  return window.confirm(question);
}
