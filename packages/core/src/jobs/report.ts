import { measureDiversity } from '../engine/diversity';
import type { JobReport } from '../model/job';

/** The report of a job's inputs, written when it ends: null when it has none. */
export function reportOf(items: readonly string[]): JobReport | null {
  return items.length === 0 ? null : { diversity: measureDiversity(items) };
}
