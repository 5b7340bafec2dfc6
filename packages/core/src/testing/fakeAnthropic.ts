import http from 'node:http';
import type { Socket } from 'node:net';
import { SUBMIT_TOOL_NAME } from '../engine/prompt';
import { seededRandom, shuffle, type Random } from '../engine/random';
import { batchClock, type FakeBatchOptions } from './fakeBatchClock';
import { listenOnLoopback, parseObject, readBody, waitUnlessClosed } from './fakeHttp';

/**
 * A local fake of the Anthropic Messages API (`POST /v1/messages`), good
 * enough for the real `@anthropic-ai/sdk` to talk to over real HTTP. Tests,
 * benchmarks and chaos runs point a provider's baseURL at it and script what
 * it answers: inputs, odd model output, HTTP errors and network faults.
 */

/** What can go wrong with one call, on the wire or in what the "model" writes. */
export type FakeFault =
  /** 429 rate_limit_error with retry-after headers. */
  | 'rate_limit'
  /** 529 overloaded_error. */
  | 'overloaded'
  /** 500 api_error. */
  | 'server_error'
  /** The socket is destroyed without an answer. */
  | 'connection_reset'
  /** No answer at all, until the client gives up or the server closes. */
  | 'hang'
  /** 200 with a JSON body cut off mid-way. */
  | 'malformed_json'
  /** stop_reason max_tokens and a text block of JSON cut off mid-input. */
  | 'truncated'
  /** A tool_use block whose input is `{}`. */
  | 'empty_tool_input'
  /** A text block that refuses. */
  | 'refusal'
  /** A text block with the inputs numbered and quoted, one per line, instead of tool_use. */
  | 'numbered_text';

export const FAKE_FAULTS: readonly FakeFault[] = [
  'rate_limit',
  'overloaded',
  'server_error',
  'connection_reset',
  'hang',
  'malformed_json',
  'truncated',
  'empty_tool_input',
  'refusal',
  'numbered_text',
];

export const FAKE_REFUSAL_TEXT = "I'm sorry, but I can't help with that.";

/** A scripted answer to one call. */
export type FakeReply =
  /** A tool_use block (named as the request's tool_choice) with this input. */
  | { type: 'tool'; input: unknown; stopReason?: string }
  /** Only a text block. */
  | { type: 'text'; text: string; stopReason?: string }
  /** An error answer in Anthropic's shape: `{"type":"error","error":{"type":errorType,"message":...}}`. */
  | { type: 'error'; status: number; errorType: string; message: string; headers?: Record<string, string> }
  | { type: 'fault'; fault: FakeFault };

export interface RecordedRequest {
  /** 0-based, in order of arrival; every request to /v1/messages counts, rejected ones too. */
  index: number;
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  /** The parsed JSON body, `{}` when it was not a JSON object. */
  body: Record<string, unknown>;
  /** The user prompt (text of the last user message). */
  prompt: string;
  /** How many inputs the prompt asks for ("Write N ..."), 5 when it does not say. */
  count: number;
  /** The tool the answer must call: tool_choice's name, else the first tool's, else submit_inputs. */
  toolName: string;
  /**
   * What the fake did: 'ok', a fault, 'scripted_error', 'unauthorized', 'invalid' or 'not_found';
   * 'aborted' when the client hung up before the answer (a cancelled call).
   */
  outcome: FakeOutcome | 'pending';
}

export type FakeOutcome = 'ok' | FakeFault | 'scripted_error' | 'unauthorized' | 'invalid' | 'not_found' | 'aborted';

export interface FakeAnthropicOptions {
  /** The accepted key (`x-api-key` or `Authorization: Bearer`, as SDK 1.x sends it); others get 401. `null` accepts any. Default `'test-key'`. */
  apiKey?: string | null;
  /** Models the fake serves; others get 404 not_found_error. Default: any model. */
  models?: readonly string[];
  /**
   * Scripted answer for a call. A string[] is shorthand for the submit tool
   * called with `{ inputs }`. Return undefined to use the default writer.
   */
  respond?: (request: RecordedRequest, callIndex: number) => FakeReply | string[] | undefined | Promise<FakeReply | string[] | undefined>;
  /** Delay before answering (after reading the request), in ms. Default 0. */
  latencyMs?: number | ((callIndex: number, request: RecordedRequest) => number);
  /** Per-call faults: `faults[i]` for call i (null/undefined: none), or a function of the call. Wins over `respond`. */
  faults?: ReadonlyArray<FakeFault | null | undefined> | ((callIndex: number, request: RecordedRequest) => FakeFault | null | undefined);
  /** Probability of each fault per call, for calls the `faults` script leaves alone (drawn from `seed`). */
  faultRates?: Partial<Record<FakeFault, number>>;
  /**
   * `retry-after-ms` sent with 429, 529 and 500 answers (and `retry-after` in
   * whole seconds on 429), so the SDK's retries stay fast. `null`: no such
   * headers, the SDK's own backoff (0.5 s, doubling) applies. Default 10.
   */
  retryAfterMs?: number | null;
  /** Seed of the fault draws and of the default writer. Default 1. */
  seed?: number;
  /** The Message Batches API (`/v1/messages/batches`): how long batches take, and what goes wrong. */
  batches?: FakeBatchOptions;
}

/** One request of a batch as the fake received it. */
export interface FakeBatchRecord {
  id: string;
  index: number;
  createdAt: number;
  requests: Array<{ custom_id: string; params: Record<string, unknown> }>;
  status: 'in_progress' | 'canceling' | 'ended';
  /** Set when it ended: one result per request, in the order submitted. */
  results: Array<Record<string, unknown>> | null;
  cancelledAt: number | null;
}

export interface FakeAnthropicStats {
  /** Requests to POST /v1/messages. */
  calls: number;
  /** Of those, answered with a Message (200), whatever its content. */
  messages: number;
  /** Inputs written into tool_use answers. */
  inputsServed: number;
  /** How often each fault was injected. */
  faults: Record<FakeFault, number>;
  /** 401, 400 and 404 answers the fake gave on its own (not scripted). */
  rejected: number;
  /**
   * Calls whose client hung up before the answer (during the latency wait or a
   * hang): how a test sees that an aborted LLM call really left the wire.
   */
  aborted: number;
  /** Message batches created, and the requests they held. */
  batchesCreated: number;
  batchRequests: number;
  /** Batches cancelled through POST .../cancel. */
  batchesCancelled: number;
}

export interface FakeAnthropic {
  /** Base URL for the SDK (`baseURL` / ANTHROPIC_BASE_URL), e.g. http://127.0.0.1:PORT. */
  url: string;
  requests: RecordedRequest[];
  stats: FakeAnthropicStats;
  /** The message batches created, by id. */
  batches: Map<string, FakeBatchRecord>;
  /** Stops the server, dropping open and hanging connections. */
  close(): Promise<void>;
}

export async function startFakeAnthropic(options: FakeAnthropicOptions = {}): Promise<FakeAnthropic> {
  const acceptedKey = options.apiKey === undefined ? 'test-key' : options.apiKey;
  const retryAfterMs = options.retryAfterMs === undefined ? 10 : options.retryAfterMs;
  const random = seededRandom(options.seed ?? 1);
  const writer = new InputWriter(seededRandom((options.seed ?? 1) ^ 0x5eed));
  const requests: RecordedRequest[] = [];
  const stats: FakeAnthropicStats = {
    calls: 0,
    messages: 0,
    inputsServed: 0,
    faults: Object.fromEntries(FAKE_FAULTS.map((f) => [f, 0])) as Record<FakeFault, number>,
    rejected: 0,
    aborted: 0,
    batchesCreated: 0,
    batchRequests: 0,
    batchesCancelled: 0,
  };
  const batches = new Map<string, FakeBatchRecord>();
  let baseUrl = '';
  const sockets = new Set<Socket>();
  const cachedSystems = new Set<string>();
  let closing = false;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // A bug in a test's respond(): answer 500 rather than leave the client hanging.
      if (!res.headersSent && !res.destroyed) sendError(res, 500, 'api_error', `fake server error: ${String(error)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const rawBody = await readBody(req);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/v1/messages/batches')) {
      await handleBatches(req, res, path, rawBody);
      return;
    }
    if (req.method !== 'POST' || path !== '/v1/messages') {
      sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`);
      return;
    }
    const index = stats.calls++;
    const body = parseObject(rawBody);
    const prompt = lastUserText(body);
    const recorded: RecordedRequest = {
      index,
      method: req.method,
      url: req.url ?? '',
      headers: req.headers,
      rawBody,
      body,
      prompt,
      count: requestedCount(prompt),
      toolName: toolNameOf(body),
      outcome: 'pending',
    };
    requests.push(recorded);

    const reject = (status: number, type: string, message: string, outcome: FakeOutcome) => {
      recorded.outcome = outcome;
      stats.rejected++;
      sendError(res, status, type, message);
    };
    if (acceptedKey !== null && apiKeyOf(req.headers) !== acceptedKey) {
      reject(401, 'authentication_error', 'invalid x-api-key', 'unauthorized');
      return;
    }
    const invalid = validate(body, rawBody, req.headers['anthropic-version']);
    if (invalid !== null) {
      reject(400, 'invalid_request_error', invalid, 'invalid');
      return;
    }
    if (options.models !== undefined && !options.models.includes(body.model as string)) {
      reject(404, 'not_found_error', `model: ${String(body.model)}`, 'not_found');
      return;
    }

    let reply: FakeReply | undefined;
    const fault = scriptedFault(index, recorded) ?? randomFault();
    if (fault !== null) reply = { type: 'fault', fault };
    else {
      const scripted = await options.respond?.(recorded, index);
      reply = Array.isArray(scripted) ? { type: 'tool', input: { inputs: scripted } } : scripted;
    }
    // A critique (buildCritiquePrompt) is answered "good" for every input; anything else gets new inputs.
    reply ??= { type: 'tool', input: { inputs: isCritique(prompt) ? Array<string>(recorded.count).fill('good') : writer.write(recorded.count) } };

    if (reply.type === 'fault' && reply.fault === 'hang') {
      // Never answer; the client's timeout or close() ends the connection.
      recorded.outcome = 'hang';
      stats.faults.hang++;
      res.once('close', () => {
        if (!closing) stats.aborted++;
      });
      return;
    }
    const latency = typeof options.latencyMs === 'function' ? options.latencyMs(index, recorded) : (options.latencyMs ?? 0);
    if (latency > 0 && !(await waitUnlessClosed(res, latency))) {
      // Not counted when close() dropped the connection: only the client's own hang-ups.
      if (!closing) {
        recorded.outcome = 'aborted';
        stats.aborted++;
      }
      return;
    }
    answer(req, res, recorded, reply);
  }

  function scriptedFault(index: number, request: RecordedRequest): FakeFault | null {
    const script = options.faults;
    if (script === undefined) return null;
    return (typeof script === 'function' ? script(index, request) : script[index]) ?? null;
  }

  function randomFault(): FakeFault | null {
    if (options.faultRates === undefined) return null;
    for (const fault of FAKE_FAULTS) {
      const rate = options.faultRates[fault] ?? 0;
      if (rate > 0 && random() < rate) return fault;
    }
    return null;
  }

  function answer(req: http.IncomingMessage, res: http.ServerResponse, request: RecordedRequest, reply: FakeReply): void {
    if (reply.type === 'error') {
      request.outcome = 'scripted_error';
      sendError(res, reply.status, reply.errorType, reply.message, reply.headers);
      return;
    }
    if (reply.type === 'tool') {
      request.outcome = 'ok';
      const inputs = (reply.input as { inputs?: unknown } | null)?.inputs;
      if (Array.isArray(inputs)) stats.inputsServed += inputs.length;
      sendMessage(res, request, [toolUseBlock(request.toolName, reply.input)], reply.stopReason ?? 'tool_use');
      return;
    }
    if (reply.type === 'text') {
      request.outcome = 'ok';
      sendMessage(res, request, [textBlock(reply.text)], reply.stopReason ?? 'end_turn');
      return;
    }
    const fault = reply.fault;
    request.outcome = fault;
    stats.faults[fault]++;
    const retryHeaders: Record<string, string> = retryAfterMs === null ? {} : { 'retry-after-ms': String(retryAfterMs) };
    switch (fault) {
      case 'rate_limit':
        sendError(res, 429, 'rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit', {
          ...retryHeaders,
          'retry-after': String(Math.ceil((retryAfterMs ?? 1000) / 1000)),
        });
        return;
      case 'overloaded':
        sendError(res, 529, 'overloaded_error', 'Overloaded', retryHeaders);
        return;
      case 'server_error':
        sendError(res, 500, 'api_error', 'Internal server error', retryHeaders);
        return;
      case 'connection_reset':
        req.socket.destroy();
        return;
      case 'hang':
        return; // handled before the latency wait
      case 'malformed_json': {
        const full = JSON.stringify(messageObject(request, [toolUseBlock(request.toolName, { inputs: writer.write(request.count) })], 'tool_use'));
        res.writeHead(200, jsonHeaders(request));
        res.end(full.slice(0, Math.floor(full.length / 2)));
        return;
      }
      case 'truncated':
        sendMessage(res, request, [textBlock(truncatedJson(writer.write(request.count)))], 'max_tokens');
        return;
      case 'empty_tool_input':
        sendMessage(res, request, [toolUseBlock(request.toolName, {})], 'tool_use');
        return;
      case 'refusal':
        sendMessage(res, request, [textBlock(FAKE_REFUSAL_TEXT)], 'end_turn');
        return;
      case 'numbered_text': {
        const lines = writer.write(request.count).map((input, i) => `${i + 1}. ${i % 2 === 0 ? `"${input}"` : input}`);
        sendMessage(res, request, [textBlock(lines.join('\n'))], 'end_turn');
        return;
      }
    }
  }

  function sendMessage(res: http.ServerResponse, request: RecordedRequest, content: unknown[], stopReason: string): void {
    stats.messages++;
    res.writeHead(200, jsonHeaders(request));
    res.end(JSON.stringify(messageObject(request, content, stopReason)));
  }

  function messageObject(request: RecordedRequest, content: unknown[], stopReason: string): Record<string, unknown> {
    return {
      id: `msg_fake_${request.index}`,
      type: 'message',
      role: 'assistant',
      model: request.body.model,
      content,
      stop_reason: stopReason,
      stop_sequence: null,
      stop_details: null,
      container: null,
      diagnostics: null,
      usage: usageFor(request, content),
    };
  }

  /** Rough token counts (4 characters a token), with the cached system prompt counted as Anthropic does. */
  function usageFor(request: RecordedRequest, content: unknown[]): Record<string, unknown> {
    const total = Math.ceil(request.rawBody.length / 4);
    const system = cacheableSystemText(request.body);
    let cacheCreation = 0;
    let cacheRead = 0;
    if (system !== null) {
      const systemTokens = Math.min(total, Math.ceil(system.length / 4));
      if (cachedSystems.has(system)) cacheRead = systemTokens;
      else {
        cachedSystems.add(system);
        cacheCreation = systemTokens;
      }
    }
    return {
      input_tokens: total - cacheCreation - cacheRead,
      output_tokens: Math.max(1, Math.ceil(JSON.stringify(content).length / 4)),
      cache_creation_input_tokens: cacheCreation,
      cache_read_input_tokens: cacheRead,
      cache_creation: null,
      inference_geo: null,
      output_tokens_details: null,
      server_tool_use: null,
      service_tier: 'standard',
      speed: null,
    };
  }


  // -------------------------------------------------------------------------
  // Message Batches

  async function handleBatches(req: http.IncomingMessage, res: http.ServerResponse, path: string, rawBody: string): Promise<void> {
    if (acceptedKey !== null && apiKeyOf(req.headers) !== acceptedKey) {
      stats.rejected++;
      sendError(res, 401, 'authentication_error', 'invalid x-api-key');
      return;
    }
    const parts = path.split('/').slice(4); // ['', 'v1', 'messages', 'batches', ...]
    if (req.method === 'POST' && parts.length === 0) return createBatch(res, rawBody);
    const batch = parts[0] === undefined ? undefined : batches.get(parts[0]);
    if (batch === undefined) {
      sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`);
      return;
    }
    if (req.method === 'GET' && parts.length === 1) return sendJson(res, batchObject(await advance(batch)));
    if (req.method === 'POST' && parts[1] === 'cancel' && parts.length === 2) {
      await advance(batch);
      if (batch.status === 'in_progress') {
        stats.batchesCancelled++;
        batch.cancelledAt = Date.now();
        await finishBatch(batch, 'canceled');
      }
      return sendJson(res, batchObject(batch));
    }
    if (req.method === 'GET' && parts[1] === 'results' && parts.length === 2) {
      await advance(batch);
      if (batch.results === null) {
        sendError(res, 400, 'invalid_request_error', `Batch ${batch.id} has not ended yet.`);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/binary' });
      res.end(batch.results.map((line) => JSON.stringify(line)).join('\n') + '\n');
      return;
    }
    sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${req.url}`);
  }

  function createBatch(res: http.ServerResponse, rawBody: string): void {
    const body = parseObject(rawBody);
    const requests = Array.isArray(body.requests) ? (body.requests as Array<{ custom_id?: unknown; params?: unknown }>) : [];
    if (requests.length === 0 || requests.length > 100_000) {
      sendError(res, 400, 'invalid_request_error', 'requests: between 1 and 100,000 requests');
      return;
    }
    const seen = new Set<string>();
    for (const [i, r] of requests.entries()) {
      const id = r?.custom_id;
      if (typeof id !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(id)) return void sendError(res, 400, 'invalid_request_error', `requests.${i}.custom_id: must match ^[a-zA-Z0-9_-]{1,64}$`);
      if (seen.has(id)) return void sendError(res, 400, 'invalid_request_error', `requests.${i}.custom_id: duplicate custom_id ${id}`);
      seen.add(id);
      const params = r.params !== null && typeof r.params === 'object' ? (r.params as Record<string, unknown>) : {};
      const invalid = validate(params, JSON.stringify(params), undefined);
      if (invalid !== null) return void sendError(res, 400, 'invalid_request_error', `requests.${i}.params.${invalid}`);
      if (options.models !== undefined && !options.models.includes(params.model as string)) {
        return void sendError(res, 404, 'not_found_error', `requests.${i}.params.model: ${String(params.model)}`);
      }
    }
    const index = stats.batchesCreated++;
    stats.batchRequests += requests.length;
    const id = `msgbatch_fake${String(index).padStart(4, '0')}${Math.floor(random() * 1e9).toString(36)}`;
    const record: FakeBatchRecord = {
      id,
      index,
      createdAt: Date.now(),
      requests: requests.map((r) => ({ custom_id: r.custom_id as string, params: r.params as Record<string, unknown> })),
      status: 'in_progress',
      results: null,
      cancelledAt: null,
    };
    batches.set(id, record);
    sendJson(res, batchObject(record));
  }

  function clockOf(batch: FakeBatchRecord) {
    return batchClock(options.batches, batch, batch.requests.length);
  }

  /** Ends a batch whose time has come (or expired). */
  async function advance(batch: FakeBatchRecord): Promise<FakeBatchRecord> {
    if (batch.status !== 'in_progress') return batch;
    const { expires, endAt } = clockOf(batch);
    if (Date.now() >= endAt) await finishBatch(batch, expires ? 'expired' : 'succeeded', endAt);
    return batch;
  }

  /** Answers every request done by now; the rest end as `rest` says (canceled, expired) or are answered too. */
  async function finishBatch(batch: FakeBatchRecord, rest: 'succeeded' | 'canceled' | 'expired', at = Date.now()): Promise<void> {
    const done = rest === 'succeeded' ? batch.requests.length : clockOf(batch).doneBy(at);
    batch.status = 'ended';
    const results: Array<Record<string, unknown>> = [];
    for (const [i, r] of batch.requests.entries()) {
      if (i >= done) {
        results.push({ custom_id: r.custom_id, result: { type: rest } });
        continue;
      }
      if (options.batches?.errored?.(r.custom_id, batch.index) === true) {
        results.push({ custom_id: r.custom_id, result: { type: 'errored', error: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } } } });
        continue;
      }
      results.push({ custom_id: r.custom_id, result: { type: 'succeeded', message: await batchAnswer(batch, r.custom_id, r.params) } });
    }
    batch.results = results;
  }

  /** One request's answer, as POST /v1/messages would give it (scripted faults aside). */
  async function batchAnswer(batch: FakeBatchRecord, customId: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const rawBody = JSON.stringify(params);
    const prompt = lastUserText(params);
    const recorded: RecordedRequest = {
      index: -1,
      method: 'BATCH',
      url: `/v1/messages/batches/${batch.id}#${customId}`,
      headers: {},
      rawBody,
      body: params,
      prompt,
      count: requestedCount(prompt),
      toolName: toolNameOf(params),
      outcome: 'ok',
    };
    const scripted = await options.respond?.(recorded, -1);
    let reply: FakeReply | undefined = Array.isArray(scripted) ? { type: 'tool', input: { inputs: scripted } } : scripted;
    if (reply !== undefined && reply.type !== 'tool' && reply.type !== 'text') reply = undefined;
    reply ??= { type: 'tool', input: { inputs: isCritique(prompt) ? Array<string>(recorded.count).fill('good') : writer.write(recorded.count) } };
    if (reply.type === 'tool') {
      const inputs = (reply.input as { inputs?: unknown } | null)?.inputs;
      if (Array.isArray(inputs)) stats.inputsServed += inputs.length;
      return messageObject(recorded, [toolUseBlock(recorded.toolName, reply.input)], reply.stopReason ?? 'tool_use');
    }
    return messageObject(recorded, [textBlock((reply as { text: string }).text)], reply.stopReason ?? 'end_turn');
  }

  function batchObject(batch: FakeBatchRecord): Record<string, unknown> {
    const counts = { processing: 0, succeeded: 0, errored: 0, canceled: 0, expired: 0 };
    if (batch.results === null) {
      const done = clockOf(batch).doneBy(Date.now());
      counts.succeeded = done;
      counts.processing = batch.requests.length - done;
    } else {
      for (const line of batch.results) counts[(line.result as { type: keyof typeof counts }).type]++;
    }
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      id: batch.id,
      type: 'message_batch',
      processing_status: batch.status,
      request_counts: counts,
      created_at: iso(batch.createdAt),
      expires_at: iso(batch.createdAt + 24 * 3_600_000),
      ended_at: batch.status === 'ended' ? iso(Date.now()) : null,
      cancel_initiated_at: batch.cancelledAt === null ? null : iso(batch.cancelledAt),
      archived_at: null,
      results_url: batch.status === 'ended' ? `${baseUrl}/v1/messages/batches/${batch.id}/results` : null,
    };
  }

  function sendJson(res: http.ServerResponse, body: unknown): void {
    res.writeHead(200, jsonHeaders(null));
    res.end(JSON.stringify(body));
  }

  const port = await listenOnLoopback(server);
  baseUrl = `http://127.0.0.1:${port}`;

  return {
    url: baseUrl,
    requests,
    stats,
    batches,
    close: async () => {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive, hanging and mid-latency connections would hold close() open.
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

// ---------------------------------------------------------------------------
// HTTP helpers


function jsonHeaders(request: RecordedRequest | null): Record<string, string> {
  return { 'content-type': 'application/json', 'request-id': `req_fake_${request?.index ?? 'x'}` };
}

function sendError(res: http.ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return;
  res.writeHead(status, { ...jsonHeaders(null), ...headers });
  res.end(JSON.stringify({ type: 'error', error: { type, message } }));
}


// ---------------------------------------------------------------------------
// Reading the request


/**
 * The key as the API reads it: `x-api-key`, else `Authorization: Bearer`
 * (SDK 1.x sends the key that way; with both, the API uses x-api-key).
 */
function apiKeyOf(headers: http.IncomingHttpHeaders): string | undefined {
  const direct = headers['x-api-key'];
  if (typeof direct === 'string') return direct;
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  return bearer?.[1];
}

/** API version 2026-10-21 (sent by SDK 1.x) removed the sampling parameters: sending any is a 400. */
const SAMPLING_PARAMETERS = ['temperature', 'top_p', 'top_k'] as const;

/** The checks of the real API that a provider bug could trip. */
function validate(body: Record<string, unknown>, raw: string, version: string | string[] | undefined): string | null {
  if (Object.keys(body).length === 0) return raw.trim() === '' ? 'request body is empty' : 'request body is not a JSON object';
  if (typeof body.model !== 'string' || body.model === '') return 'model: Field required';
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    return 'max_tokens: Field required (a positive integer)';
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  const legacy = typeof version === 'string' && version < '2026-10-21';
  for (const name of SAMPLING_PARAMETERS) {
    if (body[name] !== undefined && !legacy) return `${name}: Extra inputs are not permitted`;
  }
  const t = body.temperature;
  if (t !== undefined && (typeof t !== 'number' || t < 0 || t > 1)) return 'temperature: range: 0..1';
  const choice = body.tool_choice as { type?: unknown; name?: unknown } | undefined;
  if (choice?.type === 'tool') {
    const tools = Array.isArray(body.tools) ? (body.tools as Array<{ name?: unknown }>) : [];
    if (!tools.some((tool) => tool?.name === choice.name)) return `tool_choice: tool '${String(choice.name)}' not found in tools`;
  }
  return null;
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? (body.messages as Array<{ role?: unknown; content?: unknown }>) : [];
  const user = [...messages].reverse().find((m) => m?.role === 'user');
  if (user === undefined) return '';
  if (typeof user.content === 'string') return user.content;
  if (Array.isArray(user.content)) {
    return (user.content as Array<{ type?: unknown; text?: unknown }>)
      .filter((block) => block?.type === 'text' && typeof block.text === 'string')
      .map((block) => block.text as string)
      .join('\n');
  }
  return '';
}

function isCritique(prompt: string): boolean {
  return prompt.includes('Judge these candidate inputs');
}

/** "Write N new inputs" (buildBatchPrompt) or "Write N typical, varied inputs" (buildFirstSeedsPrompt). */
function requestedCount(prompt: string): number {
  const match = /\bWrite (\d+)\b/i.exec(prompt);
  const n = match?.[1] !== undefined ? Number(match[1]) : 5;
  return Math.min(100, Math.max(1, n));
}

function toolNameOf(body: Record<string, unknown>): string {
  const choice = body.tool_choice as { type?: unknown; name?: unknown } | undefined;
  if (choice?.type === 'tool' && typeof choice.name === 'string') return choice.name;
  const first = Array.isArray(body.tools) ? (body.tools[0] as { name?: unknown } | undefined) : undefined;
  return typeof first?.name === 'string' ? first.name : SUBMIT_TOOL_NAME;
}

/** The system text carrying a cache_control breakpoint, if any (the part prompt caching would store). */
function cacheableSystemText(body: Record<string, unknown>): string | null {
  if (!Array.isArray(body.system)) return null;
  const blocks = body.system as Array<{ text?: unknown; cache_control?: unknown }>;
  if (!blocks.some((b) => b?.cache_control != null)) return null;
  return blocks.map((b) => (typeof b?.text === 'string' ? b.text : '')).join('');
}

// ---------------------------------------------------------------------------
// Writing answers

let toolUseCounter = 0;

function toolUseBlock(name: string, input: unknown): Record<string, unknown> {
  return { type: 'tool_use', id: `toolu_fake_${++toolUseCounter}`, name, input, caller: { type: 'direct' } };
}

function textBlock(text: string): Record<string, unknown> {
  return { type: 'text', text, citations: null };
}

/** `{"inputs": ["a", "b", "c…` cut inside the last input, as a max_tokens stop leaves it. */
function truncatedJson(inputs: string[]): string {
  const literals = inputs.map((input) => JSON.stringify(input));
  const last = literals.pop() ?? '"';
  const cut = last.slice(0, Math.max(2, Math.floor(last.length / 2)));
  return `{"inputs": [${[...literals, cut].join(', ')}`;
}

/**
 * The default "model": plausible, varied requests to an assistant. Each
 * input is a request of seven independently drawn parts in one of three
 * frames, a short situation and a detail with a number from a counter, in a
 * random order:
 * no two are equal, and few are near-duplicates even at the ADVENTUROUS
 * threshold, so dedup in tests and benchmarks rejects little.
 */
export class InputWriter {
  private counter = 0;

  constructor(private readonly random: Random) {}

  write(count: number): string[] {
    return Array.from({ length: count }, () => this.next());
  }

  private next(): string {
    const n = ++this.counter;
    const pick = (pool: readonly string[]) => pool[Math.floor(this.random() * pool.length)]!;
    const task = `${pick(OPENERS)} ${pick(VERBS)} ${pick(FORMATS)}`;
    const topic = `${pick(QUALITIES)} ${pick(SUBJECTS)}`;
    const audience = pick(AUDIENCES);
    // Three sentence frames, so inputs sharing a few parts still differ in shape.
    const frame = Math.floor(this.random() * 3);
    const request =
      frame === 0
        ? `${task} about ${topic} for ${audience}?`
        : frame === 1
          ? `${task} on ${topic}, aimed at ${audience}.`
          : `Topic: ${topic}. ${task} that ${audience} would enjoy.`;
    const parts = [request, pick(SITUATIONS), pick(DETAILS).replace('{n}', String(numberFor(n)))];
    return shuffle(parts, this.random).join(' ');
  }
}

/** A number that differs for every input (the counter, spread out so it looks like a real detail). */
function numberFor(n: number): number {
  return 10 + ((n * 7919) % 99_991) + 100_000 * Math.floor(n / 99_991);
}

const OPENERS = [
  'Can you',
  'Please',
  'Quickly',
  'Kindly',
  'Help me',
  'Could you',
  'Hey,',
  'Urgent:',
  'Teach me to',
  'Honestly, just',
  'Go ahead and',
  'I must',
  'We need to',
  'Try to',
  'Hi! Please',
  'Would you',
  'Let us',
  'Time to',
  'Dear assistant,',
  'Right,',
] as const;

const VERBS = [
  'draft',
  'write',
  'prepare',
  'sketch',
  'outline',
  'brainstorm',
  'critique',
  'rewrite',
  'polish',
  'translate',
  'design',
  'plan',
  'summarize',
  'invent',
  'compose',
  'storyboard',
  'improve',
  'shorten',
] as const;

const FORMATS = [
  'an email',
  'a limerick',
  'a checklist',
  'a quiz',
  'talking points',
  'a workshop',
  'podcast names',
  'interview questions',
  'a lesson',
  'gift ideas',
  'a product blurb',
  'a budget',
  'myth busters',
  'a tweet thread',
  'film picks',
  'a bedtime story',
  'haiku',
  'a spreadsheet',
  'a complaint',
  'a packing list',
  'a pitch',
  'an essay',
  'a grant proposal',
  'startup names',
  'song lyrics',
  'a video script',
  'a board game',
  'a press release',
  'a toast',
  'a study schedule',
  'a newsletter',
  'flashcards',
  'a recipe',
  'a riddle',
] as const;

const QUALITIES = [
  'sustainable',
  'medieval',
  'budget-friendly',
  'urban',
  'vintage',
  'experimental',
  'traditional',
  'coastal',
  'open-source',
  'seasonal',
  'minimalist',
  'nordic',
  'tropical',
  'competitive',
  'handmade',
  'regional',
  'forgotten',
  'high-altitude',
  'late-night',
  'volunteer-run',
  'solar-powered',
  'underground',
  'family-owned',
  'cross-border',
  'beginner',
  'luxury',
  'accessible',
  'rural',
  'kid-friendly',
  'award-winning',
  'weekend',
  'indoor',
  'desert',
  'neighbourhood',
] as const;

const SUBJECTS = [
  'sourdough baking',
  'beekeeping',
  'bicycle repair',
  'castle architecture',
  'tax paperwork',
  'birdwatching',
  'jazz improvisation',
  'container gardening',
  'chess openings',
  'kayak touring',
  'pottery glazes',
  'rental contracts',
  'composting',
  'street photography',
  'marathon training',
  'cheese making',
  'Python packaging',
  'wedding speeches',
  'tide pools',
  'violin practice',
  'board games',
  'mushroom foraging',
  'retro computing',
  'knitting patterns',
  'transit maps',
  'fermentation',
  'astronomy',
  'dog agility',
  'vinyl records',
  'language exchanges',
  'rock climbing',
  'calligraphy',
  'podcasting',
  'solar panels',
  'origami',
  'watercolours',
  'robotics clubs',
  'sailing',
  'tea ceremonies',
  'skateboarding',
  'genealogy',
  'puppetry',
  'volcano tours',
  'aquariums',
  'wine labels',
  'quilting',
] as const;

const AUDIENCES = [
  'my grandmother',
  'nine-year-olds',
  'night-shift nurses',
  'chemistry freshmen',
  'our sales department',
  'a neighbourhood newsletter',
  'retired engineers',
  'my landlord',
  'an investor',
  'teenage gamers',
  'city councillors',
  'new immigrants',
  'a hiking club',
  'skeptical parents',
  'museum visitors',
  'remote designers',
  'farmers',
  'hospital volunteers',
  'my book club',
  'exchange students',
  'truck drivers',
  'dentists',
  'a choir',
  'pilots',
  'librarians',
  'twins',
] as const;

const SITUATIONS = [
  "I'm on a noisy train.",
  "It's due tomorrow.",
  'English is my second language.',
  'My last attempt flopped.',
  'Money is tight.',
  'Public speaking terrifies me.',
  'The boss reviews it Monday.',
  'My battery is dying.',
  'It rained all week.',
  'We just moved abroad.',
  'The printer broke again.',
  'My knee is injured.',
  'The client rejected two versions.',
  'Kids keep interrupting.',
  'Keep it light.',
  'Be brutally honest.',
  'Use bullet points.',
  'No jargon, please.',
  'Thanks in advance!',
  'Sorry for the typos.',
  'Formal tone only.',
  'Make it funny.',
  'Short answers preferred.',
  'Assume zero background.',
  'I already tried searching online.',
  'This is my first time.',
  'Deadline: Friday.',
  'Cite sources if possible.',
  'My cat sat on the keyboard.',
  'Grandpa asked for this.',
  'Wi-Fi here is awful.',
  'Spelling matters to me.',
  'Avoid clichés.',
  'Rhymes are welcome.',
  'Skip the intro.',
  'Emojis are fine.',
  'Be gentle.',
  'Think like a teacher.',
  'We are in Lisbon.',
  'It snowed overnight.',
  'Coffee ran out.',
  'Nobody here speaks French.',
  'Write for mobile screens.',
  'My editor is picky.',
  'Accessibility matters.',
  'Surprise me.',
] as const;

const DETAILS = [
  'Keep it under {n} characters.',
  'Order number {n}.',
  'Expect roughly {n} attendees.',
  'Ticket {n}.',
  'Budget: {n} dollars.',
  'Assume {n} people.',
  'Postcode {n}.',
  'Word limit {n}.',
  'Include the figure {n}.',
  'Customer ID {n}.',
  'Reference {n}.',
  'Room {n}.',
] as const;
