import type { Job } from 'bullmq';
import type { GenerationJobData, JobRun, JobSink, WebhookNotifier } from '@datagen/core';

/**
 * The run's sink as the queue UI (bull-board) and webhooks see it: after each
 * batch Redis has stored with new inputs, the BullMQ job's progress (`progress` is the percent
 * bull-board draws as a bar; `accepted` and `target` show in its Progress tab)
 * and, if the job asked, a webhook progress event; each message of the job as
 * a BullMQ job log line (bounded by the job's keepLogs). None of it can fail
 * the batch: the store has it already.
 */
export function boardSink(sink: JobSink, run: JobRun, job: Job<GenerationJobData>, webhooks: WebhookNotifier): JobSink {
  const target = run.record.target;
  const log = (text: string) => job.log(text).catch(() => undefined);
  return {
    ...sink,
    recordBatch: async (batch) => {
      const answer = await sink.recordBatch(batch);
      if (batch.accepted.length === 0) {
        await log(batch.message);
        return answer;
      }
      const accepted = run.stored.length;
      await Promise.all([
        job.updateProgress({ progress: Math.floor((100 * accepted) / target), accepted, target }).catch(() => undefined),
        log(batch.message),
        webhooks.progress(run, run.record),
      ]);
      return answer;
    },
    message: async (text) => {
      await sink.message(text);
      await log(text);
    },
  };
}

/** The job's last message (its end, or its hand-back), as its last log line. */
export function logEnd(job: Job<GenerationJobData>, text: string): Promise<unknown> {
  return job.log(text).catch(() => undefined);
}
