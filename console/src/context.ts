import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from './api.js';

export const ApiContext = createContext<Api | undefined>(undefined);

/** The signed-in API client (pages are rendered only when there is one). */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useApi outside a signed-in page');
  return api;
}
