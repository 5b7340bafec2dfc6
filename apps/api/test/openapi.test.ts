import { execFile } from 'node:child_process';
import path from 'node:path';
import type { Express } from 'express';
import { z } from 'zod';
import { KEY_A, startStack, type TestStack } from '../../../test/support/stack';
import { webhookEvent } from '@datagen/core';
import { EXAMPLE_REQUEST, EXAMPLE_STATUS } from '../src/openapi';

/**
 * The OpenAPI document: valid OpenAPI 3.1, complete (every route the app
 * serves is in it, under each prefix it is served at), and true (its schemas
 * accept its own examples and the service's real answers).
 */

const ROOT = path.resolve(__dirname, '../../..');
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

let stack: TestStack;
let doc: any;

beforeAll(async () => {
  stack = await startStack({ env: { MAX_INPUTS_PER_JOB: '500' } });
  const res = await fetch(`${stack.url}/openapi.json`); // no API key
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  doc = await res.json();
});
afterAll(() => stack.stop());

/** @seriousme/openapi-schema-validator is an ES module: it runs in a node of its own, reading the document on stdin. */
function validateOpenApi(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let text = '';
    for await (const chunk of process.stdin) text += chunk;
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(text));
    process.stdout.write(JSON.stringify({ ...result, version: validator.version }));
  `;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`validator failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout));
    });
    child.stdin!.end(JSON.stringify(document));
  });
}

interface Served {
  method: string;
  path: string;
}

/** Every route of an Express 5 app, by walking its router stack (mount paths included). */
function servedRoutes(stackLayers: any[], prefix = ''): Served[] {
  const out: Served[] = [];
  for (const layer of stackLayers) {
    if (layer.route) {
      for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) {
        out.push({ method, path: joinPath(prefix, layer.route.path) });
      }
    } else if (Array.isArray(layer.handle?.stack)) {
      const mount = typeof layer.rawPath === 'string' ? layer.rawPath : '/';
      out.push(...servedRoutes(layer.handle.stack, joinPath(prefix, mount)));
    }
  }
  return out;
}

function joinPath(a: string, b: string): string {
  const joined = `${a.replace(/\/$/, '')}/${b.replace(/^\//, '')}`;
  return joined.length > 1 ? joined.replace(/\/$/, '') : joined;
}

/** `/v1/data/generate/:jobId` and `/data/generate/{job_id}` alike: parameters named `{}`. */
function shape(p: string): string {
  return p.replace(/:[A-Za-z0-9_]+/g, '{}').replace(/\{[^}]+\}/g, '{}');
}

/** Each documented operation as the full paths it is served at (its servers, else the path's, else the document's). */
function documentedRoutes(document: any): Served[] {
  const out: Served[] = [];
  for (const [p, item] of Object.entries<any>(document.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation === undefined) continue;
      const servers: Array<{ url: string }> = operation.servers ?? item.servers ?? document.servers;
      for (const server of servers) out.push({ method, path: joinPath(server.url, p) });
    }
  }
  return out;
}

/** A schema of the document as zod, for checking values against it ($refs to components resolved). */
function zodOf(schema: any): z.ZodType {
  const resolve = (s: any): any => {
    if (Array.isArray(s)) return s.map(resolve);
    if (s === null || typeof s !== 'object') return s;
    if (typeof s.$ref === 'string') return resolve(s.$ref.split('/').slice(1).reduce((node: any, key: string) => node[key], doc));
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, resolve(v)]));
  };
  return z.fromJSONSchema(resolve(schema));
}

const schemaOf = (name: string) => zodOf({ $ref: `#/components/schemas/${name}` });

describe('GET /openapi.json', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toMatch(/^3\.1\./);
    const result = await validateOpenApi(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('documents every route the app serves, under each prefix it serves it at', () => {
    const app = stack.api.server.listeners('request')[0] as Express;
    const served = servedRoutes(app.router.stack).filter((r) => !r.path.startsWith('/admin/')); // bull-board's UI, when enabled
    const documented = new Set(documentedRoutes(doc).map((r) => `${r.method} ${shape(r.path)}`));

    // the data routes are served under both prefixes, and so documented
    const dataRoutes = served.filter((r) => r.path.includes('/data/generate'));
    expect(dataRoutes.length).toBe(2 * 8);
    for (const prefix of ['', '/v1']) {
      for (const op of ['post /data/generate', 'get /data/generate', 'get /data/generate/{}', 'delete /data/generate/{}', 'get /data/generate/{}/data', 'get /data/generate/{}/messages', 'get /data/generate/{}/items', 'get /data/generate/{}/rejected']) {
        const [method, p] = op.split(' ');
        expect(documented).toContain(`${method} ${prefix}${p}`);
      }
    }
    const missing = served.filter((r) => !documented.has(`${r.method} ${shape(r.path)}`));
    expect(missing).toEqual([]);
  });

  it('documents nothing the app does not serve', () => {
    const app = stack.api.server.listeners('request')[0] as Express;
    const served = new Set(servedRoutes(app.router.stack).map((r) => `${r.method} ${shape(r.path)}`));
    // GET /docs is a mounted middleware (Swagger UI), not a route: checked by requesting it below.
    const stale = documentedRoutes(doc).filter((r) => r.path !== '/docs' && !served.has(`${r.method} ${shape(r.path)}`));
    expect(stale).toEqual([]);
  });

  it('asks for the x-api-key header on the data routes only', () => {
    expect(doc.components.securitySchemes.ApiKey).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'x-api-key' }));
    expect(doc.security).toEqual([{ ApiKey: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/data/generate'].post.security).toBeUndefined();
    expect(doc.servers.map((s: { url: string }) => s.url)).toEqual(['/v1', '/']);
  });

  it('takes the request schema from the zod schema, MAX_INPUTS_PER_JOB included', () => {
    const request = doc.components.schemas.StartJobRequest;
    expect(request.required.sort()).toEqual(['application_description', 'num_inputs_to_generate', 'seeds']);
    expect(request.properties.num_inputs_to_generate).toMatchObject({ type: 'integer', minimum: 1, maximum: 500 });
    expect(request.properties.batch_size).toMatchObject({ type: 'integer', minimum: 1, maximum: 10, default: 5 });
    expect(request.properties.exploration_mode.enum).toEqual(['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS']);
    expect(doc.paths['/data/generate'].get.parameters).toEqual([
      expect.objectContaining({ name: 'state', in: 'query', required: false, schema: expect.objectContaining({ enum: ['QUEUED', 'RUNNING', 'DONE', 'ERROR', 'CANCELLED'] }) }),
      expect.objectContaining({ name: 'limit', in: 'query', required: false, schema: expect.objectContaining({ type: 'integer', minimum: 1, maximum: 1000, default: 100 }) }),
      expect.objectContaining({ name: 'cursor', in: 'query', required: false, schema: expect.objectContaining({ type: 'string' }) }),
    ]);
    expect(doc.paths['/data/generate'].get.responses['200'].headers.Link.schema).toEqual({ type: 'string' });
    expect(doc.paths['/data/generate/{job_id}/data'].get.responses['200'].content).toHaveProperty('text/plain');
  });

  it('has examples that validate against their own schemas', () => {
    const post = doc.paths['/data/generate'].post;
    const example = post.requestBody.content['application/json'].example;
    expect(example).toEqual(EXAMPLE_REQUEST);
    expect(zodOf(post.requestBody.content['application/json'].schema).safeParse(example).success).toBe(true);
    // and the schema is not a pushover
    expect(zodOf(post.requestBody.content['application/json'].schema).safeParse({ ...example, batch_size: 11 }).success).toBe(false);
    expect(zodOf(post.requestBody.content['application/json'].schema).safeParse({ ...example, seeds: undefined }).success).toBe(false);

    const status = post.responses['200'].content['application/json'];
    expect(zodOf(status.schema).safeParse(status.example).success).toBe(true);
    expect(status.example).toEqual(EXAMPLE_STATUS);
    const invalid = doc.components.responses.ValidationFailed.content['application/json'];
    expect(zodOf(invalid.schema).safeParse(invalid.example).success).toBe(true);
  });

  it("describes the webhook events the service sends, as OpenAPI 3.1's webhooks", () => {
    const post = doc.webhooks.jobEvent.post;
    expect(post.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/WebhookEvent' });
    expect(post.parameters.map((p: { name: string }) => p.name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
    // An event as the service builds it validates; one of another type does not.
    const status = { ...EXAMPLE_STATUS, detailed_status: [...EXAMPLE_STATUS.detailed_status], state: 'DONE' as const, data: null };
    const event = webhookEvent('job.done', status, new Date());
    expect(schemaOf('WebhookEvent').safeParse(event).error).toBeUndefined();
    expect(schemaOf('WebhookEvent').safeParse({ ...event, type: 'job.finished' }).success).toBe(false);
  });

  it("describes the service's real answers", async () => {
    const headers = { 'x-api-key': KEY_A, 'content-type': 'application/json' };
    const started = await fetch(`${stack.url}/v1/data/generate`, { method: 'POST', headers, body: JSON.stringify(EXAMPLE_REQUEST) });
    expect(started.status).toBe(200);
    const status = (await started.json()) as { job_id: string };
    expect(schemaOf('DataGenerationStatus').safeParse(status).error).toBeUndefined();

    const listed = await (await fetch(`${stack.url}/data/generate`, { headers })).json();
    expect(z.array(schemaOf('DataGenerationStatus')).safeParse(listed).error).toBeUndefined();

    const invalid = await fetch(`${stack.url}/v1/data/generate`, { method: 'POST', headers, body: JSON.stringify({ ...EXAMPLE_REQUEST, batch_size: 0 }) });
    expect(invalid.status).toBe(422);
    expect(schemaOf('ValidationError').safeParse(await invalid.json()).error).toBeUndefined();

    for (const [url, expected] of [
      [`${stack.url}/v1/data/generate/nope`, 404],
      [`${stack.url}/data/generate?state=SLEEPING`, 422],
    ] as const) {
      const res = await fetch(url, { headers });
      expect(res.status).toBe(expected);
      expect(schemaOf(expected === 422 ? 'ValidationError' : 'Error').safeParse(await res.json()).error).toBeUndefined();
    }
    const unauthorized = await fetch(`${stack.url}/v1/data/generate`);
    expect(unauthorized.status).toBe(401);
    expect(schemaOf('Error').safeParse(await unauthorized.json()).error).toBeUndefined();

    await fetch(`${stack.url}/v1/data/generate/${status.job_id}`, { method: 'DELETE', headers });
  });
});

describe('GET /docs', () => {
  it('answers an HTML page of Swagger UI on the document, without an API key', async () => {
    const res = await fetch(`${stack.url}/docs`);
    expect(res.status).toBe(200);
    expect(res.url).toBe(`${stack.url}/docs/`); // redirected, so the page's relative assets resolve
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const html = await res.text();
    expect(html).toMatch(/<html/i);
    expect(html).toContain('datagen API reference');
    expect(html).toContain('swagger-ui');

    const init = await fetch(`${stack.url}/docs/swagger-ui-init.js`);
    expect(init.status).toBe(200);
    expect(await init.text()).toContain('"openapi": "3.1.0"');
    const css = await fetch(`${stack.url}/docs/swagger-ui.css`);
    expect(css.status).toBe(200);
  });
});
