import http from 'node:http';
import type { Socket } from 'node:net';
import { seededRandom } from '../engine/random';
import { batchClock, type FakeBatchOptions } from './fakeBatchClock';
import { listenOnLoopback, parseObject, readBody, waitUnlessClosed } from './fakeHttp';

/**
 * A local fake of an OpenAI-compatible chat-completions server
 * (`POST /v1/chat/completions`), good enough for the real `openai` SDK to
 * talk to over real HTTP. Smaller than the Anthropic fake: it answers the
 * forced function call, or text, or a scripted error or fault, and can act
 * like the servers that ignore tools or refuse them (many Ollama models).
 */

export type FakeOpenAIFault =
  /** 429 with `retry-after-ms`. */
  | 'rate_limit'
  /** 500. */
  | 'server_error'
  /** 503 with `retry-after-ms`, as Ollama and vLLM answer when their queue is full. */
  | 'overloaded'
  /** The socket is destroyed without an answer. */
  | 'connection_reset'
  /** No answer at all, until the client gives up or the server closes. */
  | 'hang';

/** A scripted answer to one call. */
export type FakeOpenAIReply =
  /** A tool call of the requested function with these arguments (a string is sent as is: it may be broken JSON). */
  | { type: 'tool'; arguments: unknown }
  /** Only message text, no tool call (what a server that ignores tools answers). */
  | { type: 'text'; text: string }
  /** An error in OpenAI's shape: `{"error":{"message","type","param","code"}}`. */
  | { type: 'error'; status: number; message: string; errorType?: string }
  | { type: 'fault'; fault: FakeOpenAIFault };

export interface FakeOpenAIRequest {
  index: number;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body, `{}` when it was not a JSON object. */
  body: Record<string, unknown>;
  /** Text of the last user message. */
  prompt: string;
  /** How many inputs the prompt asks for ("Write N ..."), 5 when it does not say. */
  count: number;
  /** The function tool_choice forces, if any. */
  forcedTool: string | null;
}

export interface FakeOpenAIOptions {
  /** The accepted bearer key; others get 401. `null` accepts any (as local servers do). Default `'test-key'`. */
  apiKey?: string | null;
  /** Models the fake serves; others get 404 model_not_found. Default: any. */
  models?: readonly string[];
  /** Scripted answer; a string[] is shorthand for the forced tool called with `{ inputs }`. Undefined: the default writer. */
  respond?: (request: FakeOpenAIRequest, callIndex: number) => FakeOpenAIReply | string[] | undefined;
  /** Per-call faults, `faults[i]` for call i. Wins over `respond`. */
  faults?: ReadonlyArray<FakeOpenAIFault | null | undefined>;
  /** Answer in text even when a tool is forced (servers and models that ignore tools). */
  ignoreTools?: boolean;
  /** Answer 400 "does not support tools" to any request with tools, as Ollama does for models without tool support. */
  refuseTools?: boolean;
  /** Delay before answering, in ms. Default 0. */
  latencyMs?: number;
  /** Seed of the default writer. Default 1. */
  seed?: number;
  /** The Batch API (`/v1/files`, `/v1/batches`): how long batches take, and what goes wrong. */
  batches?: FakeBatchOptions;
}

/** A batch as the fake holds it. */
export interface FakeOpenAIBatch {
  id: string;
  index: number;
  createdAt: number;
  lines: Array<{ custom_id: string; body: Record<string, unknown> }>;
  status: 'in_progress' | 'completed' | 'expired' | 'cancelled';
  outputFileId: string | null;
  errorFileId: string | null;
  completed: number;
  failed: number;
  metadata: unknown;
}

export interface FakeOpenAI {
  /** Base URL for the SDK and OPENAI_BASE_URL, ending in /v1: http://127.0.0.1:PORT/v1. */
  url: string;
  requests: FakeOpenAIRequest[];
  /** Batches created through the Batch API, by id; files uploaded, by id. */
  batches: Map<string, FakeOpenAIBatch>;
  files: Map<string, string>;
  close(): Promise<void>;
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const acceptedKey = options.apiKey === undefined ? 'test-key' : options.apiKey;
  const random = seededRandom(options.seed ?? 1);
  let written = 0;
  const requests: FakeOpenAIRequest[] = [];
  const sockets = new Set<Socket>();
  const batches = new Map<string, FakeOpenAIBatch>();
  const files = new Map<string, string>();

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) sendError(res, 500, `fake server error: ${String(error)}`, 'server_error');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/v1/files') || path.startsWith('/v1/batches')) {
      const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (acceptedKey !== null && bearer !== acceptedKey) return sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      return handleBatchApi(req, res, path, raw);
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      sendError(res, 404, `Not found: ${req.method} ${req.url}`, 'invalid_request_error');
      return;
    }
    const body = parseObject(raw);
    const prompt = lastUserText(body);
    const choice = body.tool_choice as { function?: { name?: unknown } } | undefined;
    const request: FakeOpenAIRequest = {
      index: requests.length,
      headers: req.headers,
      body,
      prompt,
      count: Math.min(100, Math.max(1, Number(/\bWrite (\d+)\b/i.exec(prompt)?.[1] ?? 5))),
      forcedTool: typeof choice?.function?.name === 'string' ? choice.function.name : null,
    };
    requests.push(request);

    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (acceptedKey !== null && bearer !== acceptedKey) {
      sendError(res, 401, 'Incorrect API key provided.', 'invalid_request_error', 'invalid_api_key');
      return;
    }
    if (typeof body.model !== 'string' || !Array.isArray(body.messages) || body.messages.length === 0) {
      sendError(res, 400, 'model and messages are required', 'invalid_request_error');
      return;
    }
    if (options.models !== undefined && !options.models.includes(body.model)) {
      sendError(res, 404, `The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
      return;
    }
    if (options.refuseTools === true && Array.isArray(body.tools)) {
      sendError(res, 400, `registry.ollama.ai/library/${body.model} does not support tools`, 'api_error');
      return;
    }

    const fault = options.faults?.[request.index] ?? null;
    const scripted = fault !== null ? ({ type: 'fault', fault } as const) : options.respond?.(request, request.index);
    let reply: FakeOpenAIReply = Array.isArray(scripted) ? { type: 'tool', arguments: { inputs: scripted } } : (scripted ?? defaultReply(request));
    if (reply.type === 'tool' && (options.ignoreTools === true || request.forcedTool === null)) {
      reply = { type: 'text', text: JSON.stringify(reply.arguments) };
    }

    if (reply.type === 'fault' && reply.fault === 'hang') return; // the client's timeout or close() ends it
    if ((options.latencyMs ?? 0) > 0 && !(await waitUnlessClosed(res, options.latencyMs!))) return;

    const completion = replyBody(request, reply, raw);
    if (completion !== null) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(completion));
      return;
    }
    switch (reply.type) {
      case 'fault':
        if (reply.fault === 'connection_reset') req.socket.destroy();
        else if (reply.fault === 'rate_limit') sendError(res, 429, 'Rate limit reached.', 'rate_limit_exceeded', null, { 'retry-after-ms': '10' });
        else if (reply.fault === 'overloaded') sendError(res, 503, 'server busy, please try again.', 'server_error', null, { 'retry-after-ms': '10' });
        else sendError(res, 500, 'The server had an error while processing your request.', 'server_error', null, { 'retry-after-ms': '10' });
        return;
      case 'error':
        sendError(res, reply.status, reply.message, reply.errorType ?? 'invalid_request_error', null, { 'retry-after-ms': '10' });
        return;
    }
  }

  /** The chat completion a tool or text reply makes; null for errors and faults. */
  function replyBody(request: FakeOpenAIRequest, reply: FakeOpenAIReply, raw: string): Record<string, unknown> | null {
    if (reply.type === 'tool') {
      const args = typeof reply.arguments === 'string' ? reply.arguments : JSON.stringify(reply.arguments);
      const message = {
        role: 'assistant',
        content: null,
        refusal: null,
        tool_calls: [{ id: `call_fake_${request.index}`, type: 'function', function: { name: request.forcedTool, arguments: args } }],
      };
      return completionObject(request, message, 'tool_calls', raw);
    }
    if (reply.type === 'text') return completionObject(request, { role: 'assistant', content: reply.text, refusal: null }, 'stop', raw);
    return null;
  }

  // -------------------------------------------------------------------------
  // The Batch API: files (JSONL in, JSONL out) and batches

  function handleBatchApi(req: http.IncomingMessage, res: http.ServerResponse, path: string, raw: string): void {
    const parts = path.split('/').slice(2); // ['files' | 'batches', id?, action?]
    if (parts[0] === 'files' && req.method === 'POST' && parts.length === 1) {
      const content = multipartFile(raw, req.headers['content-type'] ?? '');
      if (content === null) return sendError(res, 400, "'file' is a required property", 'invalid_request_error');
      const id = `file-fake${files.size}`;
      files.set(id, content);
      return sendJson(res, { id, object: 'file', bytes: Buffer.byteLength(content), created_at: seconds(Date.now()), filename: 'batch.jsonl', purpose: 'batch', status: 'processed' });
    }
    if (parts[0] === 'files' && req.method === 'GET' && parts[2] === 'content') {
      const content = files.get(parts[1] ?? '');
      if (content === undefined) return sendError(res, 404, `No such File object: ${parts[1]}`, 'invalid_request_error');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(content);
      return;
    }
    if (parts[0] === 'batches' && req.method === 'POST' && parts.length === 1) {
      const body = parseObject(raw);
      const input = files.get(String(body.input_file_id));
      if (input === undefined) return sendError(res, 400, `No such File object: ${String(body.input_file_id)}`, 'invalid_request_error');
      if (body.endpoint !== '/v1/chat/completions') return sendError(res, 400, 'endpoint: only /v1/chat/completions here', 'invalid_request_error');
      const lines = input
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => parseObject(line) as { custom_id: string; body: Record<string, unknown> });
      const ids = new Set(lines.map((line) => line.custom_id));
      if (ids.size !== lines.length) return sendError(res, 400, 'The batch input file contains duplicate custom_id values.', 'invalid_request_error');
      const batch: FakeOpenAIBatch = {
        id: `batch_fake${batches.size}`,
        index: batches.size,
        createdAt: Date.now(),
        lines,
        status: 'in_progress',
        outputFileId: null,
        errorFileId: null,
        completed: 0,
        failed: 0,
        metadata: body.metadata ?? null,
      };
      batches.set(batch.id, batch);
      return sendJson(res, batchObject(batch));
    }
    if (parts[0] === 'batches' && req.method === 'GET' && parts.length === 1) {
      const newest = [...batches.values()].reverse();
      newest.forEach(advance);
      return sendJson(res, { object: 'list', data: newest.map(batchObject), first_id: newest[0]?.id ?? null, last_id: newest.at(-1)?.id ?? null, has_more: false });
    }
    const batch = parts[0] === 'batches' ? batches.get(parts[1] ?? '') : undefined;
    if (batch === undefined) return sendError(res, 404, `Not found: ${req.method} ${req.url}`, 'invalid_request_error');
    advance(batch);
    if (req.method === 'GET' && parts.length === 2) return sendJson(res, batchObject(batch));
    if (req.method === 'POST' && parts[2] === 'cancel') {
      if (batch.status === 'in_progress') finish(batch, 'cancelled', Date.now());
      return sendJson(res, batchObject(batch));
    }
    sendError(res, 404, `Not found: ${req.method} ${req.url}`, 'invalid_request_error');
  }

  function clockOf(batch: FakeOpenAIBatch) {
    return batchClock(options.batches, batch, batch.lines.length);
  }

  function advance(batch: FakeOpenAIBatch): void {
    if (batch.status !== 'in_progress') return;
    const { expires, endAt } = clockOf(batch);
    if (Date.now() >= endAt) finish(batch, expires ? 'expired' : 'completed', endAt);
  }

  /** Writes the output file (answers) and the error file (failed and expired requests); cancelled requests are in neither. */
  function finish(batch: FakeOpenAIBatch, status: FakeOpenAIBatch['status'], at: number): void {
    const done = status === 'completed' ? batch.lines.length : clockOf(batch).doneBy(at);
    const output: string[] = [];
    const errors: string[] = [];
    for (const [i, line] of batch.lines.entries()) {
      if (i >= done) {
        if (status === 'expired') errors.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: line.custom_id, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } }));
        continue;
      }
      if (options.batches?.errored?.(line.custom_id, batch.index) === true) {
        errors.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: line.custom_id, response: { status_code: 500, request_id: `req_${i}`, body: { error: { message: 'The server had an error.', type: 'server_error' } } }, error: null }));
        continue;
      }
      const body = line.body;
      const prompt = lastUserText(body);
      const choice = body.tool_choice as { function?: { name?: unknown } } | undefined;
      const request: FakeOpenAIRequest = {
        index: -1,
        headers: {},
        body,
        prompt,
        count: Math.min(100, Math.max(1, Number(/\bWrite (\d+)\b/i.exec(prompt)?.[1] ?? 5))),
        forcedTool: typeof choice?.function?.name === 'string' ? choice.function.name : null,
      };
      const scripted = options.respond?.(request, -1);
      const reply: FakeOpenAIReply = Array.isArray(scripted) ? { type: 'tool', arguments: { inputs: scripted } } : (scripted ?? defaultReply(request));
      const completion = replyBody(request, reply, JSON.stringify(body)) ?? replyBody(request, defaultReply(request), JSON.stringify(body))!;
      output.push(JSON.stringify({ id: `batch_req_${i}`, custom_id: line.custom_id, response: { status_code: 200, request_id: `req_${i}`, body: completion }, error: null }));
    }
    batch.status = status;
    batch.completed = output.length;
    batch.failed = errors.length;
    if (output.length > 0) {
      batch.outputFileId = `file-fake${files.size}`;
      files.set(batch.outputFileId, output.join('\n') + '\n');
    }
    if (errors.length > 0) {
      batch.errorFileId = `file-fake${files.size}`;
      files.set(batch.errorFileId, errors.join('\n') + '\n');
    }
  }

  function batchObject(batch: FakeOpenAIBatch): Record<string, unknown> {
    const inProgress = batch.status === 'in_progress';
    const completed = inProgress ? clockOf(batch).doneBy(Date.now()) : batch.completed;
    return {
      id: batch.id,
      object: 'batch',
      endpoint: '/v1/chat/completions',
      errors: null,
      input_file_id: 'file-fake-input',
      completion_window: '24h',
      status: batch.status,
      output_file_id: batch.outputFileId,
      error_file_id: batch.errorFileId,
      created_at: seconds(batch.createdAt),
      in_progress_at: seconds(batch.createdAt),
      expires_at: seconds(batch.createdAt + 24 * 3_600_000),
      completed_at: batch.status === 'completed' ? seconds(Date.now()) : null,
      request_counts: { total: batch.lines.length, completed, failed: inProgress ? 0 : batch.failed },
      metadata: batch.metadata,
    };
  }

  /** Distinct inputs built from a seeded draw of words and a counter. */
  function defaultReply(request: FakeOpenAIRequest): FakeOpenAIReply {
    const inputs = Array.from({ length: request.count }, () => {
      const n = ++written;
      const words = Array.from({ length: 8 }, () => WORDS[Math.floor(random() * WORDS.length)]!);
      return `Request ${n}: ${words.join(' ')}?`;
    });
    return { type: 'tool', arguments: { inputs } };
  }

  const port = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    batches,
    files,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function completionObject(request: FakeOpenAIRequest, message: unknown, finishReason: string, raw: string): Record<string, unknown> {
  const promptTokens = Math.ceil(raw.length / 4);
  const completionTokens = Math.max(1, Math.ceil(JSON.stringify(message).length / 4));
  return {
    id: `chatcmpl-fake-${request.index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: request.body.model,
    choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
  };
}

function sendJson(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const seconds = (ms: number) => Math.floor(ms / 1000);

/** The `file` part of a multipart/form-data body (the SDK's upload), or null. */
function multipartFile(raw: string, contentType: string): string | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (mark === undefined) return null;
  for (const part of raw.split(`--${mark}`)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const headers = part.slice(0, split);
    if (!/name="file"/i.test(headers)) continue;
    return part.slice(split + 4).replace(/\r\n$/, '');
  }
  return null;
}

function sendError(
  res: http.ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null = null,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error: { message, type, param: null, code } }));
}




function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  const user = [...messages].reverse().find((m) => m?.role === 'user');
  return typeof user?.content === 'string' ? user.content : '';
}

const WORDS = (
  'amber bridge cinder delta ember fjord grove harbor island jungle kettle lagoon meadow nebula orchard ' +
  'pebble quarry rapids summit tundra upland valley willow xenon yonder zenith anchor basil cobalt dune'
).split(' ');
