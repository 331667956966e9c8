/**
 * The signed-in key, kept for this tab only (`sessionStorage`: gone when the tab closes, never shared with other
 * tabs, never sent anywhere: the API client uses it only to sign). Also the import tasks started from this tab, so a
 * version page can follow their progress (no API lists a version's import tasks).
 */
import type { Credentials } from './api.js';

const KEY = 'qfdata.console.key';
const TASKS = 'qfdata.console.tasks.';

export function loadCredentials(): Credentials | undefined {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    if (typeof value !== 'object' || value === null) return undefined;
    const { accessKeyId, secretAccessKey } = value as Record<string, unknown>;
    return typeof accessKeyId === 'string' && typeof secretAccessKey === 'string' ? { accessKeyId, secretAccessKey } : undefined;
  } catch {
    return undefined;
  }
}

export function saveCredentials(credentials: Credentials): void {
  sessionStorage.setItem(KEY, JSON.stringify({ accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey }));
}

/** Signs out: forgets the key and everything this tab remembered. */
export function clearSession(): void {
  sessionStorage.clear();
}

export type TaskKind = 'import' | 'export';

export function rememberedTasks(kind: TaskKind, versionId: string): string[] {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(`${TASKS}${kind}.${versionId}`) ?? '[]');
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberTask(kind: TaskKind, versionId: string, taskId: string): void {
  const tasks = [taskId, ...rememberedTasks(kind, versionId).filter((t) => t !== taskId)].slice(0, 20);
  sessionStorage.setItem(`${TASKS}${kind}.${versionId}`, JSON.stringify(tasks));
}
