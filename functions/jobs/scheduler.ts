/**
 * The one scheduled function of the bundle (EventBridge `rate(1 minute)` in the cloud, serverless-offline's schedule
 * locally). It restarts every open import task whose lease has expired, a never-started task included, so no task
 * is stranded by a lost message or a killed worker. (The export issue adds its export jobs here.)
 */
import { imports } from '../../shared/datasets/index.js';
import { log } from '../../shared/log.js';

export async function handler(): Promise<{ importsRestarted: number }> {
  const importsRestarted = await imports().sweep();
  if (importsRestarted > 0) log.info('sweep restarted import tasks', { importsRestarted });
  return { importsRestarted };
}
