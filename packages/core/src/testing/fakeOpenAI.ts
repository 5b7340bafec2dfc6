import http from 'node:http';
import type { Socket } from 'node:net';
import { seededRandom } from '../engine/random';
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
}

export interface FakeOpenAI {
  /** Base URL for the SDK and OPENAI_BASE_URL, ending in /v1: http://127.0.0.1:PORT/v1. */
  url: string;
  requests: FakeOpenAIRequest[];
  close(): Promise<void>;
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const acceptedKey = options.apiKey === undefined ? 'test-key' : options.apiKey;
  const random = seededRandom(options.seed ?? 1);
  let written = 0;
  const requests: FakeOpenAIRequest[] = [];
  const sockets = new Set<Socket>();

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
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== '/v1/chat/completions') {
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
      case 'tool': {
        const args = typeof reply.arguments === 'string' ? reply.arguments : JSON.stringify(reply.arguments);
        const message = {
          role: 'assistant',
          content: null,
          refusal: null,
          tool_calls: [{ id: `call_fake_${request.index}`, type: 'function', function: { name: request.forcedTool, arguments: args } }],
        };
        sendCompletion(res, request, message, 'tool_calls', raw);
        return;
      }
      case 'text':
        sendCompletion(res, request, { role: 'assistant', content: reply.text, refusal: null }, 'stop', raw);
        return;
    }
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
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function sendCompletion(res: http.ServerResponse, request: FakeOpenAIRequest, message: unknown, finishReason: string, raw: string): void {
  if (res.destroyed) return;
  const promptTokens = Math.ceil(raw.length / 4);
  const completionTokens = Math.max(1, Math.ceil(JSON.stringify(message).length / 4));
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      id: `chatcmpl-fake-${request.index}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: request.body.model,
      choices: [{ index: 0, message, finish_reason: finishReason, logprobs: null }],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    }),
  );
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
