/**
 * The adaptive temperature rule, within a mode's band: warmer when a batch
 * comes back mostly similar to what exists (the model is repeating itself),
 * cooler when it comes back mostly bad (off task, filtered). The answer
 * carries the reason, for the job's messages.
 */
export interface BatchJudgement {
  good: number;
  similar: number;
  bad: number;
}

export const TEMPERATURE_STEP = 0.05;

export function nextTemperature(
  current: number,
  band: { min: number; max: number },
  batch: BatchJudgement,
): { temperature: number; reason: string | null } {
  const judged = batch.good + batch.similar + batch.bad;
  if (judged === 0) return { temperature: current, reason: null };
  let next = current;
  let reason: string | null = null;
  if (batch.similar / judged > 0.5) {
    next = Math.min(band.max, current + TEMPERATURE_STEP);
    reason = `${batch.similar} of ${judged} were too similar to earlier inputs`;
  } else if (batch.bad / judged > 0.5) {
    next = Math.max(band.min, current - TEMPERATURE_STEP);
    reason = `${batch.bad} of ${judged} were rejected as bad`;
  }
  next = Math.round(next * 100) / 100;
  return next === current ? { temperature: current, reason: null } : { temperature: next, reason };
}
