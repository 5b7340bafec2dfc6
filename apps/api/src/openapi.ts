import type { Express } from 'express';
import swaggerUi from 'swagger-ui-express';
import {
  contractJsonSchema,
  dataGenerationStatusSchema,
  datasetSchema,
  errorBodySchema,
  exportQuerySchema,
  itemSchema,
  listQuerySchema,
  pageQuerySchema,
  rejectedSchema,
  startJobSchema,
  validationErrorBodySchema,
  webhookEventSchema,
} from '@datagen/core';

/**
 * The OpenAPI 3.1 document of the API, built from the same zod schemas the
 * routes validate with (packages/core/src/contract.ts), so the two cannot drift.
 * zod's JSON Schema output is draft 2020-12, the dialect of OpenAPI 3.1.
 * Served at GET /openapi.json, and as a reference page at GET /docs.
 */

/** The request of the examples in the document (and of the README). */
export const EXAMPLE_REQUEST = {
  application_description: "Write a children's story communicating a simple life lesson.",
  num_inputs_to_generate: 20,
  seeds: ['Write a story about a brave little turtle who learns to share.', 'Tell me a bedtime story about a dragon who is afraid of the dark.'],
  batch_size: 5,
  num_shots: 5,
  exploration_mode: 'CREATIVE',
} as const;

export const EXAMPLE_STATUS = {
  job_id: '5f0c9a7e2b7d4c1e8a3f6b2d9e0c4a11',
  state: 'RUNNING',
  detailed_status: [
    'Queued: waiting for a worker.',
    'Started: generating 20 inputs in CREATIVE mode, 5 per batch, 5 examples per prompt, up to 4 batches at a time, with anthropic (claude-sonnet-5-5).',
    'Batch 1: 2 new inputs accepted, 2 rejected as duplicates, 1 filtered out (empty, meta-text, refusal or far off the seeds\' length) (2/20 done).',
  ],
  data: [
    'Tell me a story about a shy hedgehog who learns that asking for help is brave.',
    'Write a short story where a lost kite teaches two friends to take turns.',
  ],
  num_inputs_to_generate: 20,
  num_generated: 2,
  created_at: '2026-01-01T12:00:00.000Z',
  usage: { input_tokens: 1450, output_tokens: 380, llm_calls: 1 },
  report: {
    generated: 5,
    accepted: 2,
    rejected: { exact_duplicate: 1, near_duplicate: 1, filtered: 1, bad: 0 },
    unusable_answers: 0,
    estimated_cost_usd: 0.00999,
    cost: {
      estimated_usd: 0.00999,
      per_1000_accepted_usd: 4.995,
      billed_tokens_per_accepted: 915,
      cache_read_tokens: 0,
      cache_write_tokens: 0,
      cache_savings_usd: 0,
      discount_usd: 0,
      batch_requests: 0,
      note: null,
    },
    diversity: null,
  },
} as const;

const SCHEMAS = '#/components/schemas';
const RESPONSES = '#/components/responses';
const ref = (to: string) => ({ $ref: to });

/** Query parameters from a zod object schema: one parameter a property. */
function queryParameters(schema: typeof listQuerySchema | typeof pageQuerySchema | typeof exportQuerySchema): Array<Record<string, unknown>> {
  const json = contractJsonSchema(schema, 'input') as { properties?: Record<string, Record<string, unknown>>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', required: json.required?.includes(name) ?? false, description, schema: rest };
  });
}

const datasetNameParameter = {
  name: 'name',
  in: 'path',
  required: true,
  description: "The dataset's name (a job's `dataset`).",
  schema: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$' },
};

const jobIdParameter = {
  name: 'job_id',
  in: 'path',
  required: true,
  description: 'The id answered by POST /data/generate.',
  schema: { type: 'string' },
};

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: ref(`${SCHEMAS}/Error`) } } });

const textStream = (description: string, example: string) => ({
  description,
  content: { 'text/plain': { schema: { type: 'string' }, example } },
});

/** A path served at the root only (not under /v1), without an API key. */
const rootOnly = { servers: [{ url: '/', description: 'the service root' }] };

export interface OpenApiOptions {
  /** MAX_INPUTS_PER_JOB: the upper bound of num_inputs_to_generate. */
  maxInputs: number;
  version?: string;
}

export function buildOpenApiDocument(options: OpenApiOptions): Record<string, unknown> {
  const statusResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: ref(`${SCHEMAS}/DataGenerationStatus`), example: EXAMPLE_STATUS } },
  });
  return {
    openapi: '3.1.0',
    info: {
      title: 'datagen: synthetic data generation jobs',
      version: options.version ?? '0.1.0',
      description: [
        'A self-hosted service that turns an application description and a few seed inputs into N new, diverse,',
        'non-duplicate LLM inputs, as a durable background job. It speaks the "data generate" API of Pi Labs, so the',
        'official `withpi` SDK works against it (`PI_CLIENT_BASE_URL=http://HOST:PORT/v1`).',
        '',
        'Every route is served under both `/v1` and `/`. A job belongs to the API key that created it: other keys get',
        '404 for it and never see it in a list.',
      ].join('\n'),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [
      { url: '/v1', description: 'the versioned prefix (what the withpi SDK uses)' },
      { url: '/', description: 'the same routes at the root' },
    ],
    security: [{ ApiKey: [] }],
    tags: [
      { name: 'data generate', description: 'Generation jobs: start, follow, stream, list, cancel.' },
      { name: 'datasets', description: "A key's named sets of inputs across jobs: a job that names one never repeats its inputs." },
      { name: 'inside a job', description: "Each input's provenance, and the candidates that were not kept: read-only, this key's jobs only." },
      { name: 'service', description: 'Health and this reference (no API key).' },
    ],
    paths: {
      '/data/generate': {
        post: {
          tags: ['data generate'],
          operationId: 'startJob',
          summary: 'Start a data generation job',
          description: 'Validates the request and queues the job; answers its status (state QUEUED).',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: ref(`${SCHEMAS}/StartJobRequest`), example: EXAMPLE_REQUEST } },
          },
          responses: {
            '200': statusResponse('The job, queued.'),
            '400': errorResponse('The body is not valid JSON.'),
            '401': ref(`${RESPONSES}/Unauthorized`),
            '413': errorResponse('The body is larger than MAX_BODY_BYTES.'),
            '422': ref(`${RESPONSES}/ValidationFailed`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
        get: {
          tags: ['data generate'],
          operationId: 'list',
          summary: "List this key's jobs",
          description:
            'A page of jobs, optionally of one state: the newest `limit` jobs (or, with `cursor`, those before the previous page), ' +
            'oldest first within the page. When older jobs follow, the answer has a `Link: <...>; rel="next"` header with the next ' +
            "page's URL. A page reads only its own jobs, however many the key has. `data` is null and `detailed_status` holds only " +
            'the last message here: fetch a job for them.',
          parameters: queryParameters(listQuerySchema),
          responses: {
            '200': {
              description: 'The jobs.',
              headers: {
                Link: {
                  description: 'The next (older) page, as `<url>; rel="next"`; absent on the last page.',
                  schema: { type: 'string' },
                },
              },
              content: { 'application/json': { schema: { type: 'array', items: ref(`${SCHEMAS}/DataGenerationStatus`) } } },
            },
            '401': ref(`${RESPONSES}/Unauthorized`),
            '422': ref(`${RESPONSES}/ValidationFailed`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/data/generate/{job_id}': {
        parameters: [jobIdParameter],
        get: {
          tags: ['data generate'],
          operationId: 'retrieve',
          summary: 'A job: state, messages and data so far',
          responses: {
            '200': statusResponse('The job.'),
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
        delete: {
          tags: ['data generate'],
          operationId: 'cancel',
          summary: 'Cancel a queued or running job',
          description: 'The job ends CANCELLED and keeps the inputs generated so far.',
          responses: {
            '200': {
              description: 'A sentence saying what happened.',
              content: { 'application/json': { schema: { type: 'string' }, example: 'Job 5f0c9a7e2b7d4c1e8a3f6b2d9e0c4a11 cancelled.' } },
            },
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '409': errorResponse('The job has already ended.'),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/data/generate/{job_id}/data': {
        parameters: [jobIdParameter],
        get: {
          tags: ['data generate'],
          operationId: 'streamData',
          summary: "Stream a job's inputs as they are produced",
          description:
            'Each accepted input as a JSON string on its own line (inputs may hold newlines), from the first, as they come; ' +
            'the answer ends when the job ends. Every connection replays from the start.',
          responses: {
            '200': textStream('The inputs, one JSON string a line.', '"Tell me a story about a shy hedgehog."\n"Write a story about a lost kite."\n'),
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/data/generate/{job_id}/messages': {
        parameters: [jobIdParameter],
        get: {
          tags: ['data generate'],
          operationId: 'streamMessages',
          summary: "Stream a job's progress messages",
          description: 'The state at connect time, each progress message as it happens, then the final state (DONE, ERROR or CANCELLED).',
          responses: {
            '200': textStream('One message a line.', 'RUNNING\nBatch 1: 5 accepted, 0 similar, 0 bad (5 of 20).\nDONE\n'),
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/data/generate/{job_id}/items': pagedEntries({
        operationId: 'items',
        summary: "A job's accepted inputs with their provenance",
        description:
          'Each accepted input with where it came from: its batch and theme, the examples its prompt showed (seeds or earlier inputs, by index), ' +
          "the model and temperature, the critic's verdict, its nearest seed or input and their similarity, and when it was accepted. " +
          '`format=json` answers one page (a `Link: <...>; rel="next"` header gives the next); `format=jsonl` streams every input from `offset` on.',
        schema: 'Item',
      }),
      '/data/generate/{job_id}/rejected': pagedEntries({
        operationId: 'rejected',
        summary: "The candidates a job did not keep, and why",
        description:
          'Exact or near duplicates (of which seed or input, at what similarity), candidates a filter dropped (which one, why), and those the critic ' +
          "judged bad (its reason). The newest 2,000 are kept per job; the status's report counts them all. Pages as for items.",
        schema: 'Rejected',
      }),
      '/datasets': {
        get: {
          tags: ['datasets'],
          operationId: 'listDatasets',
          summary: "This key's datasets",
          responses: {
            '200': { description: 'The datasets.', content: { 'application/json': { schema: { type: 'array', items: ref(`${SCHEMAS}/Dataset`) } } } },
            '401': ref(`${RESPONSES}/Unauthorized`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/datasets/{name}': {
        parameters: [datasetNameParameter],
        get: {
          tags: ['datasets'],
          operationId: 'getDataset',
          summary: 'A dataset: its inputs, jobs and unfinished jobs',
          responses: {
            '200': { description: 'The dataset.', content: { 'application/json': { schema: ref(`${SCHEMAS}/Dataset`) } } },
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '422': ref(`${RESPONSES}/ValidationFailed`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
        delete: {
          tags: ['datasets'],
          operationId: 'deleteDataset',
          summary: 'Delete a dataset (its jobs keep their own data)',
          responses: {
            '200': { description: 'Deleted.', content: { 'application/json': { schema: { type: 'string' } } } },
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '409': errorResponse('A job of the dataset is still queued or running: cancel it or wait.'),
            '422': ref(`${RESPONSES}/ValidationFailed`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/datasets/{name}/export': {
        parameters: [datasetNameParameter],
        get: {
          tags: ['datasets'],
          operationId: 'exportDataset',
          summary: "A dataset's inputs, with the job that wrote each",
          parameters: queryParameters(exportQuerySchema),
          responses: {
            '200': {
              description: 'jsonl: {"input", "job_id"} a line, streamed; csv: a header `input,job_id`, then a row an input; parquet: columns input and job_id (strings).',
              content: {
                'application/x-ndjson': { schema: { type: 'object', properties: { input: { type: 'string' }, job_id: { type: 'string' } } } },
                'text/csv': { schema: { type: 'string' } },
                'application/vnd.apache.parquet': { schema: { type: 'string', format: 'binary' } },
              },
            },
            '401': ref(`${RESPONSES}/Unauthorized`),
            '404': ref(`${RESPONSES}/NotFound`),
            '422': ref(`${RESPONSES}/ValidationFailed`),
            '503': ref(`${RESPONSES}/Unavailable`),
          },
        },
      },
      '/healthz': {
        ...rootOnly,
        get: {
          tags: ['service'],
          operationId: 'health',
          summary: 'Liveness: the process answers',
          security: [],
          responses: { '200': jsonObject('Alive.', { status: { type: 'string', const: 'ok' } }) },
        },
      },
      '/readyz': {
        ...rootOnly,
        get: {
          tags: ['service'],
          operationId: 'ready',
          summary: 'Readiness: Redis answers',
          security: [],
          responses: {
            '200': jsonObject('Ready.', { status: { type: 'string' } }),
            '503': jsonObject('Redis is unreachable.', { status: { type: 'string' } }),
          },
        },
      },
      '/metrics': {
        ...rootOnly,
        get: {
          tags: ['service'],
          operationId: 'metrics',
          summary: 'Prometheus metrics of this process and of the queue',
          security: [],
          responses: { '200': { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      '/openapi.json': {
        ...rootOnly,
        get: {
          tags: ['service'],
          operationId: 'openapi',
          summary: 'This document',
          security: [],
          responses: { '200': { description: 'The OpenAPI 3.1 document.', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/docs': {
        ...rootOnly,
        get: {
          tags: ['service'],
          operationId: 'docs',
          summary: 'The API reference page (Swagger UI) for this document',
          security: [],
          responses: { '200': { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } },
        },
      },
    },
    // What the service sends (OpenAPI 3.1's webhooks): receivers can generate their handler from it.
    webhooks: {
      jobEvent: {
        post: {
          tags: ['data generate'],
          operationId: 'jobEvent',
          summary: "An event about a job, POSTed to its webhook_url",
          description: [
            'Sent on each terminal state (`job.done`, `job.error`, `job.cancelled`) and, for a job that set',
            '`webhook_progress`, on progress at most every `WEBHOOK_PROGRESS_INTERVAL_MS`. At least once, with the',
            'same `webhook-id` on every retry (exponential backoff for up to a day), signed as the Standard Webhooks',
            'spec says: verify `webhook-signature` over `webhook-id.webhook-timestamp.body` with `WEBHOOK_SECRET`',
            '(the `standardwebhooks` package does it; README "Webhooks").',
          ].join('\n'),
          security: [],
          parameters: [
            { name: 'webhook-id', in: 'header', required: true, schema: { type: 'string' }, description: 'The event id: the same on every attempt (deduplicate on it).' },
            { name: 'webhook-timestamp', in: 'header', required: true, schema: { type: 'string' }, description: "The attempt's time, in seconds since the epoch." },
            { name: 'webhook-signature', in: 'header', required: true, schema: { type: 'string' }, description: '`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.' },
          ],
          requestBody: { required: true, content: { 'application/json': { schema: ref(`${SCHEMAS}/WebhookEvent`) } } },
          responses: {
            '2XX': { description: 'Delivered: any 2xx ends the retries.' },
            default: { description: 'Anything else (or no answer within the timeout) is retried.' },
          },
        },
      },
    },
    components: {
      securitySchemes: {
        ApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'One of API_KEYS (the development server accepts dev-key).' },
      },
      schemas: {
        StartJobRequest: contractJsonSchema(startJobSchema(options.maxInputs), 'input'),
        DataGenerationStatus: contractJsonSchema(dataGenerationStatusSchema, 'output'),
        Item: contractJsonSchema(itemSchema, 'output'),
        Dataset: contractJsonSchema(datasetSchema, 'output'),
        Rejected: contractJsonSchema(rejectedSchema, 'output'),
        WebhookEvent: contractJsonSchema(webhookEventSchema, 'output'),
        Error: contractJsonSchema(errorBodySchema, 'output'),
        ValidationError: contractJsonSchema(validationErrorBodySchema, 'output'),
      },
      responses: {
        Unauthorized: errorResponse('The x-api-key header is missing or not an accepted key.'),
        NotFound: errorResponse('No such job for this key.'),
        Unavailable: errorResponse('Redis is unreachable; answered at once. Try again shortly.'),
        ValidationFailed: {
          description: 'The request did not validate.',
          content: {
            'application/json': {
              schema: ref(`${SCHEMAS}/ValidationError`),
              example: { detail: [{ loc: ['body', 'batch_size'], msg: 'Too big: expected number to be <=10', type: 'less_than_equal' }] },
            },
          },
        },
      },
    },
  };
}

function jsonObject(description: string, properties: Record<string, unknown>) {
  return {
    description,
    content: { 'application/json': { schema: { type: 'object', properties, required: Object.keys(properties) } } },
  };
}

/**
 * GET /openapi.json (the document) and GET /docs (Swagger UI on it), both
 * without an API key. The document is built once.
 */
export function serveOpenApi(app: Express, options: OpenApiOptions): void {
  const document = buildOpenApiDocument(options);
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // The page loads its assets relative to itself, so it must be served at /docs/; a relative
  // redirect keeps working behind a proxy that serves the API under a path of its own.
  app.get('/docs', (req, res, next) => {
    if (req.originalUrl.split('?')[0]!.endsWith('/')) return next();
    res.redirect(301, 'docs/');
  });
  const ui = { customSiteTitle: 'datagen API reference' };
  // serveFiles (not serve) keeps each app's page on its own document.
  app.use('/docs', ...swaggerUi.serveFiles(document, ui), swaggerUi.setup(document, ui));
}

/** A job's entries endpoint, paged as JSON or streamed as JSON lines (items, rejected). */
function pagedEntries(o: { operationId: string; summary: string; description: string; schema: string }) {
  return {
    parameters: [jobIdParameter],
    get: {
      tags: ['inside a job'],
      operationId: o.operationId,
      summary: o.summary,
      description: o.description,
      parameters: queryParameters(pageQuerySchema),
      responses: {
        '200': {
          description: 'A page of entries (json), or every entry from offset on, one a line (jsonl).',
          headers: { Link: { description: 'The next page, as `<url>; rel="next"` (format=json); absent on the last page.', schema: { type: 'string' } } },
          content: {
            'application/json': { schema: { type: 'array', items: ref(`${SCHEMAS}/${o.schema}`) } },
            'application/x-ndjson': { schema: ref(`${SCHEMAS}/${o.schema}`) },
          },
        },
        '401': ref(`${RESPONSES}/Unauthorized`),
        '404': ref(`${RESPONSES}/NotFound`),
        '422': ref(`${RESPONSES}/ValidationFailed`),
        '503': ref(`${RESPONSES}/Unavailable`),
      },
    },
  };
}
