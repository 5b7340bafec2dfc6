import { z } from 'zod';
import { EXPLORATION_MODES } from './llm/provider';

/** The public contract: request and response shapes of the "data generate" API. */

export const JOB_STATES = ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELLED'] as const;
export type JobState = (typeof JOB_STATES)[number];
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['DONE', 'ERROR', 'CANCELLED']);

/** Caps on one request, so a single body cannot exhaust a worker's memory. */
export const LIMITS = {
  descriptionChars: 20_000,
  seedChars: 10_000,
  seeds: 1_000,
} as const;

export function startJobSchema(maxInputs: number) {
  return z.object({
    application_description: z.string().trim().min(1, 'must not be empty').max(LIMITS.descriptionChars),
    num_inputs_to_generate: z.number().int().min(1).max(maxInputs),
    seeds: z
      .array(z.string().trim().min(1, 'seeds must be non-empty strings').max(LIMITS.seedChars))
      .max(LIMITS.seeds),
    batch_size: z.number().int().min(1).max(10).default(5),
    num_shots: z.number().int().min(1).max(10).default(5),
    exploration_mode: z.enum(EXPLORATION_MODES).default('BALANCED'),
    run_parallel_batches: z.boolean().optional(),
  });
}

export type JobRequest = z.output<ReturnType<typeof startJobSchema>>;

export const listQuerySchema = z.object({
  state: z.enum(JOB_STATES).optional(),
});

export interface DataGenerationStatus {
  job_id: string;
  state: JobState;
  detailed_status: string[];
  data: string[] | null;
  // Our additions; the contract allows extra fields, never renamed ones.
  num_inputs_to_generate: number;
  num_generated: number;
  created_at: string;
  usage: { input_tokens: number; output_tokens: number; llm_calls: number };
}
