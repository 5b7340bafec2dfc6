import { z } from 'zod';
import { EXPLORATION_MODES, JOB_STATES } from './model/job';

/** The public contract: request and response shapes of the "data generate" API. */

/** Caps on one request, so a single body cannot exhaust a worker's memory. */
export const LIMITS = {
  descriptionChars: 20_000,
  seedChars: 10_000,
  seeds: 1_000,
  webhookUrlChars: 2_000,
} as const;

/** A dataset's name: what the request's `dataset` and the /datasets routes take. */
export const datasetNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'must be 1 to 100 letters, digits, _ . or -, starting with a letter or digit');

/** A dataset as GET /datasets answers it. */
export const datasetSchema = z
  .object({
    name: z.string(),
    items: z.number().int().min(0).describe('Inputs it holds.'),
    jobs: z.number().int().min(0).describe('Jobs that wrote them.'),
    unfinished_jobs: z.number().int().min(0).describe('Jobs of it still queued or running (a delete waits for them).'),
    created_at: z.string().nullable().describe('ISO 8601; null until its first input.'),
    updated_at: z.string().nullable(),
  })
  .describe("A key's named set of inputs across jobs, deduplicated across them.");

export type DatasetView = z.infer<typeof datasetSchema>;

export const exportQuerySchema = z.object({
  format: z.enum(['jsonl', 'csv', 'parquet']).default('jsonl').describe('jsonl: {"input", "job_id"} a line; csv: input,job_id; parquet: columns input, job_id.'),
});

export function startJobSchema(maxInputs: number) {
  // The descriptions end up in the OpenAPI document (apps/api/src/openapi.ts); they do not change validation.
  return z
    .object({
      application_description: z
        .string()
        .trim()
        .min(1, 'must not be empty')
        .max(LIMITS.descriptionChars)
        .describe('What the LLM application does; the generated inputs are inputs to it.'),
      num_inputs_to_generate: z.number().int().min(1).max(maxInputs).describe('How many new inputs to generate (exactly this many).'),
      seeds: z
        .array(z.string().trim().min(1, 'seeds must be non-empty strings').max(LIMITS.seedChars))
        .max(LIMITS.seeds)
        .describe('Example inputs. May be empty: the job then writes 5 first examples of its own, which are not part of the output.'),
      batch_size: z.number().int().min(1).max(10).default(5).describe('Inputs asked for in one LLM call.'),
      num_shots: z.number().int().min(1).max(10).default(5).describe('Examples shown in each prompt.'),
      exploration_mode: z
        .enum(EXPLORATION_MODES)
        .default('BALANCED')
        .describe('How far the new inputs may stray from the examples, from CONSERVATIVE to ADVENTUROUS.'),
      dataset: datasetNameSchema
        .optional()
        .describe(
          "A dataset of this key's to add the inputs to: the job rejects every input alike to one the dataset already holds, from any earlier or concurrent job of it, so \"50 more\" never repeats. Created by its first job; kept until deleted.",
        ),
      run_parallel_batches: z
        .boolean()
        .optional()
        .describe('true or absent: up to JOB_MAX_PARALLEL_BATCHES batches of the job in flight at once; false: one batch at a time (generation, critique, then the next).'),
      economy: z
        .boolean()
        .optional()
        .describe(
          "true: economy mode. The job sends its requests through the LLM provider's batch API (Anthropic Message Batches) in rounds, at half the price, and gives its worker back while the provider works: it takes minutes to hours instead of seconds. Not the same as batch_size (inputs per LLM call). Default: the server's ECONOMY_DEFAULT (false). Needs a provider with a batch API: otherwise 422.",
        ),
      webhook_url: z
        .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
        .max(LIMITS.webhookUrlChars, 'must be at most 2,000 characters')
        .optional()
        .describe(
          'Where to POST signed events (Standard Webhooks) about this job: when it ends (job.done, job.error, job.cancelled) and, with webhook_progress, while it runs. Default: the server\'s WEBHOOK_URLS entry for your key, else WEBHOOK_URL. Private, loopback and link-local targets are refused unless the server allows them.',
        ),
      webhook_progress: z
        .boolean()
        .optional()
        .describe('true: also a job.progress event while the job runs, at most every WEBHOOK_PROGRESS_INTERVAL_MS (5 s by default).'),
    })
    .describe('A data generation job.');
}

export type JobRequest = z.output<ReturnType<typeof startJobSchema>>;

/** Jobs a list answers when the query does not say; and the most it answers. */
export const LIST_PAGE = { default: 100, max: 1000 } as const;

export const listQuerySchema = z.object({
  state: z.enum(JOB_STATES).optional().describe('Only jobs in this state.'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIST_PAGE.max)
    .default(LIST_PAGE.default)
    .describe(`Jobs on one page (default ${LIST_PAGE.default}, at most ${LIST_PAGE.max}): the newest first across pages, the newest last within one.`),
  cursor: z
    .string()
    .max(200)
    .optional()
    .describe('Where the previous page stopped: the `cursor` of its `Link: <...>; rel="next"` header, which is absent on the last page.'),
});

/** The answer of every job route: one schema, from which both the TS type and the OpenAPI document come. */
export const dataGenerationStatusSchema = z
  .object({
    job_id: z.string().describe('The id of the job.'),
    state: z.enum(JOB_STATES).describe('QUEUED, RUNNING, then DONE, ERROR or CANCELLED.'),
    detailed_status: z.array(z.string()).describe('Human-readable progress messages, oldest first.'),
    data: z
      .array(z.string())
      .nullable()
      .describe('The inputs accepted so far (present before DONE too); null in lists, which leave the data out.'),
    // Our additions; the contract allows extra fields, never renamed ones.
    num_inputs_to_generate: z.number().int().min(1).describe('How many inputs the job was asked for.'),
    num_generated: z.number().int().min(0).describe('How many inputs it has accepted so far.'),
    created_at: z.string().describe('When the job was created (ISO 8601).'),
    usage: z
      .object({
        input_tokens: z.number().int().min(0),
        output_tokens: z.number().int().min(0),
        llm_calls: z.number().int().min(0),
      })
      .describe('LLM tokens and calls the job has used so far.'),
    report: z
      .object({
        generated: z.number().int().min(0).describe('Candidates judged so far.'),
        accepted: z.number().int().min(0),
        rejected: z.object({
          exact_duplicate: z.number().int().min(0),
          near_duplicate: z.number().int().min(0),
          filtered: z.number().int().min(0).describe('Dropped by the heuristic filters: empty, meta-text, refusal, far-off length.'),
          bad: z.number().int().min(0).describe('Judged off task, not self-contained or unrealistic by the critic.'),
        }),
        unusable_answers: z.number().int().min(0).describe('LLM answers with no usable input at all.'),
        estimated_cost_usd: z.number().min(0).nullable().describe('From the tokens and the model price; null for a model of unknown price.'),
        cost: z
          .object({
            estimated_usd: z.number().nullable().describe('What the tokens cost, the batch discount applied (economy mode); null: unknown price (see note).'),
            per_1000_accepted_usd: z.number().nullable().describe('Estimated cost per 1,000 accepted inputs; null before the first one.'),
            billed_tokens_per_accepted: z.number().nullable().describe('Input and output tokens billed per accepted input.'),
            cache_read_tokens: z.number().int().min(0).describe('Input tokens read from the prompt cache (billed at 0.1 x input).'),
            cache_write_tokens: z.number().int().min(0).describe('Input tokens written to the prompt cache (billed at 1.25 x input).'),
            cache_savings_usd: z.number().nullable().describe('What prompt caching saved against sending every cached token at the input price.'),
            discount_usd: z.number().nullable().describe("What the provider's batch API took off (economy mode; 0 otherwise)."),
            batch_requests: z.number().int().min(0).describe("Requests sent through the provider's batch API."),
            note: z.string().nullable().describe('Why there is no estimate (a model of unknown price), else null.'),
          })
          .describe('The cost of the job so far, from its tokens and the model price (model/pricing.ts, LLM_PRICES).'),
        diversity: z
          .object({
            distinct_1: z.number(),
            distinct_2: z.number(),
            mean_pairwise_similarity: z.number().describe('Mean ROUGE-L F1 over pairs (sampled above 5,000 pairs).'),
            compression_ratio: z.number().describe('Size over gzip size of the set; higher is more repetitive.'),
          })
          .nullable()
          .describe('Measured when the job ended; null before.'),
      })
      .describe('Quality and cost of the job so far (the measures of npm run eval).'),
  })
  .describe('The state, progress messages and data so far of a data generation job.');

export type DataGenerationStatus = z.infer<typeof dataGenerationStatusSchema>;

/** The query of the items and rejected pages. */
export const pageQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0).describe('The first entry to answer (0-based): the `offset` of the next page in the `Link` header.'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(LIST_PAGE.max)
    .default(LIST_PAGE.default)
    .describe(`Entries on one page (default ${LIST_PAGE.default}, at most ${LIST_PAGE.max}).`),
  format: z
    .enum(['json', 'jsonl'])
    .default('json')
    .describe('json: one page as a JSON array, with a Link header to the next. jsonl: every entry from `offset` on, one JSON object a line, streamed.'),
});

const sourceRefSchema = z.object({
  source: z
    .enum(['seed', 'input', 'dataset'])
    .describe("A seed (given, or written by a seedless job), an earlier accepted input, or an input another job wrote to the job's dataset."),
  index: z.number().int().min(0).describe('Its 0-based index among the seeds or the inputs.'),
});
const neighbourSchema = sourceRefSchema.extend({ similarity: z.number().min(0).max(1).describe('ROUGE-L F1 of the normalised words.') });

/** One accepted input with where it came from (GET /data/generate/{job_id}/items). */
export const itemSchema = z
  .object({
    index: z.number().int().min(0).describe("Its position in the job's data (0-based)."),
    input: z.string(),
    batch: z.number().int().min(1).nullable().describe('The batch that wrote it (counted per run of the job).'),
    theme: z.string().nullable().describe('The theme its batch was asked to cover.'),
    examples: z.array(sourceRefSchema).describe('The examples its prompt showed.'),
    model: z.string().nullable().describe('The provider and model that wrote it.'),
    temperature: z.number().nullable(),
    critic: z
      .object({ verdict: z.enum(['good', 'bad', 'unjudged']), reason: z.string().nullable() })
      .nullable()
      .describe("The critic's verdict; unjudged when the critic was off or could not judge the batch."),
    nearest: neighbourSchema.nullable().describe('Its most similar seed or earlier input when accepted, among those the dedup index compared it with, from ROUGE-L 0.3 up.'),
    accepted_at: z.string().nullable().describe('ISO 8601.'),
  })
  .describe('An accepted input and its provenance (null fields: not recorded, for inputs stored before provenance was).');

/** One candidate the job did not keep (GET /data/generate/{job_id}/rejected). */
export const rejectedSchema = z
  .object({
    index: z.number().int().min(0).describe("Its number among the job's rejections (0-based; the oldest are dropped past 2,000)."),
    input: z.string(),
    reason: z.enum(['exact_duplicate', 'near_duplicate', 'filtered', 'bad']),
    detail: z.string().describe('In words: what it duplicates, which filter and why, or the critic\'s reason.'),
    duplicate_of: neighbourSchema.nullable().describe('The seed or input it repeats, with the similarity (1 for an exact duplicate).'),
    filter: z.string().nullable().describe('The filter that dropped it: empty, meta, refusal or length.'),
    batch: z.number().int().min(1),
    theme: z.string().nullable(),
    rejected_at: z.string().describe('ISO 8601.'),
  })
  .describe('A candidate that was not kept, and why.');

export type ItemView = z.infer<typeof itemSchema>;
export type RejectedView = z.infer<typeof rejectedSchema>;

/** `{"detail": "..."}`: every error answer but validation's (401, 404, 409, 413, 503, ...). */
/** What a webhook POSTs about a job (webhooks/event.ts builds it), signed as Standard Webhooks says. */
export const webhookEventSchema = z
  .object({
    type: z.enum(['job.done', 'job.error', 'job.cancelled', 'job.progress']).describe('A terminal state reached, or progress (when the job asked for it).'),
    job_id: z.string(),
    state: dataGenerationStatusSchema.shape.state,
    num_generated: dataGenerationStatusSchema.shape.num_generated,
    num_inputs_to_generate: dataGenerationStatusSchema.shape.num_inputs_to_generate,
    report: dataGenerationStatusSchema.shape.report,
    usage: dataGenerationStatusSchema.shape.usage,
    links: z
      .object({ status: z.string(), data: z.string(), items: z.string() })
      .describe("Paths under the API's address (the event does not know the address clients reach it at)."),
    timestamp: z.string().describe('When the event happened (ISO 8601); the webhook-timestamp header is the attempt\'s time.'),
  })
  .describe("An event about a job, POSTed to its webhook_url.");

export type WebhookEventBody = z.infer<typeof webhookEventSchema>;

export const errorBodySchema = z.object({ detail: z.string().describe('What went wrong.') }).describe('An error.');

/** 422: FastAPI-style validation errors, as the hosted service answers them. */
export const validationErrorBodySchema = z
  .object({
    detail: z.array(
      z.object({
        loc: z.array(z.union([z.string(), z.number().int()])).describe('Where: "body" or "query", then the path of the field.'),
        msg: z.string().describe('What is wrong with it.'),
        type: z.string().describe('A FastAPI (pydantic) error type, e.g. missing, less_than_equal, enum.'),
      }),
    ),
  })
  .describe('The request did not validate: one entry a problem.');

/**
 * A contract schema as JSON Schema 2020-12 (the dialect of OpenAPI 3.1): the
 * request side (`input`: defaults make fields optional) or the answer side
 * (`output`). Answers stay open to new fields, which the contract allows.
 */
export function contractJsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    override: ({ jsonSchema }) => {
      const s = jsonSchema as Record<string, unknown>;
      if (io === 'output' && s.additionalProperties === false) delete s.additionalProperties;
      // z.number().int() bounds itself to the safe integers: noise in a reference.
      if (s.minimum === Number.MIN_SAFE_INTEGER) delete s.minimum;
      if (s.maximum === Number.MAX_SAFE_INTEGER) delete s.maximum;
    },
  }) as Record<string, unknown>;
  delete json.$schema; // the embedding document names the dialect
  return json;
}
