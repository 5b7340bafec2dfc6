import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { pino } from 'pino';
import type { RedisClient } from '@datagen/core';
import { startApiServer, type ApiServer } from '../src/server';
import { deleteNamespace, KEY_A, submitJob, testConfig, testRedis, waitFor } from '../../../test/support/stack';

/**
 * Requests a client got wrong (a body that does not decompress, a charset or
 * encoding the API does not read, an upload cut short, a broken %-escape in
 * the path) answer their 4xx with a JSON `detail`, never a 500 or a stack
 * trace; and nothing is lost: the API keeps serving, a job stored before
 * still reads. The API logs errors only for its own bugs (500s), so the test
 * keeps what it logs and expects nothing there.
 */
let api: ApiServer;
let redis: RedisClient;
let port: number;
let jobId: string;
const errorLogs: string[] = [];

beforeAll(async () => {
  const config = testConfig();
  api = await startApiServer(config, pino({ level: 'error' }, { write: (line: string) => errorLogs.push(line) }));
  redis = testRedis(config);
  port = Number(new URL(api.url).port);
  jobId = await submitJob(api, good);
});
afterAll(async () => {
  await api.close();
  await deleteNamespace(redis, api.ctx.config.keyPrefix);
  redis.disconnect();
});

const good = { application_description: 'Short product reviews.', num_inputs_to_generate: 3, seeds: [] };
const json = JSON.stringify(good);

interface Answer {
  status: number;
  type: string | undefined;
  text: string;
  json: any;
}

/** One request with node:http, which sends what fetch will not (a wrong Content-Encoding, a charset, raw bytes). */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'x-api-key': KEY_A, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = undefined;
        }
        resolve({ status: res.statusCode!, type: res.headers['content-type'], text, json: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A client error answered as JSON with a readable detail: no stack trace, not the 500 text. */
function expectClientError(answer: Answer, status: number, detail: RegExp): void {
  expect({ status: answer.status, detail: answer.json?.detail }).toEqual({ status, detail: expect.stringMatching(detail) });
  expect(answer.type).toMatch(/^application\/json/);
  expect(answer.text).not.toMatch(/\n\s+at |Internal server error/);
}

/** The API still serves, and the job stored before the bad request reads as it did. */
async function expectNothingLost(): Promise<void> {
  expect((await send('GET', '/healthz')).status).toBe(200);
  const job = await send('GET', `/v1/data/generate/${jobId}`);
  expect(job.status).toBe(200);
  expect(job.json).toMatchObject({ job_id: jobId, state: 'QUEUED', num_inputs_to_generate: 3 });
  const list = await send('GET', '/v1/data/generate');
  expect(list.status).toBe(200);
  expect(list.json.map((job: { job_id: string }) => job.job_id)).toContain(jobId);
}

afterEach(async () => {
  await expectNothingLost();
  expect(errorLogs.splice(0).map((line) => JSON.parse(line).err?.message)).toEqual([]);
});

describe('a request body the API cannot read', () => {
  const gzipped = gzipSync(json);
  const bodies: Array<[string, Record<string, string>, Buffer | string, number, RegExp]> = [
    // The decompressor's own message follows the colon ("incorrect header check"; under jest,
    // body-parser's http-errors takes zlib's error, from another realm, for no Error and says "Bad Request").
    ['Content-Encoding gzip on a body that is not gzip', { 'content-encoding': 'gzip' }, json, 400, /^Cannot read the request body \(Content-Encoding: gzip\): \S/],
    ['a truncated gzip body', { 'content-encoding': 'gzip' }, gzipped.subarray(0, gzipped.length - 8), 400, /^Cannot read the request body \(Content-Encoding: gzip\): \S/],
    ['Content-Encoding deflate on garbage', { 'content-encoding': 'deflate' }, 'not deflate at all', 400, /^Cannot read the request body \(Content-Encoding: deflate\): \S/],
    ['Content-Encoding br on garbage', { 'content-encoding': 'br' }, 'not brotli at all', 400, /^Cannot read the request body \(Content-Encoding: br\): \S/],
    ['Content-Encoding compress', { 'content-encoding': 'compress' }, json, 415, /unsupported content encoding "compress"/],
    ['two stacked Content-Encodings', { 'content-encoding': 'gzip, deflate' }, deflateSync(gzipped), 415, /unsupported content encoding/],
    ['a charset JSON does not allow', { 'content-type': 'application/json; charset=latin1' }, json, 415, /unsupported charset "LATIN1"/],
    ['a charset nobody knows', { 'content-type': 'application/json; charset=utf-99' }, json, 415, /unsupported charset "UTF-99"/],
    ['malformed JSON', {}, '{"application_description": ', 400, /Malformed JSON in request body/],
  ];

  it.each(bodies)('answers %s with its 4xx', async (_name, headers, body, status, detail) => {
    const answer = await send('POST', '/v1/data/generate', { 'content-type': 'application/json', ...headers }, body);
    expectClientError(answer, status, detail);
  });

  it('still reads the bodies it supports: gzip, deflate, br and a utf-8 charset', async () => {
    for (const [headers, body] of [
      [{ 'content-encoding': 'gzip' }, gzipSync(json)],
      [{ 'content-encoding': 'deflate' }, deflateSync(json)],
      [{ 'content-encoding': 'br' }, brotliCompressSync(json)],
      [{ 'content-type': 'application/json; charset=UTF-8' }, json],
    ] as const) {
      const answer = await send('POST', '/v1/data/generate', { 'content-type': 'application/json', ...headers }, body);
      expect(answer.status).toBe(200);
      expect(answer.json.state).toBe('QUEUED');
    }
  });

  it('answers an upload cut short of its Content-Length with a 400, not a 500', async () => {
    // The server's own answer to this request: Node answers the client itself once the
    // connection half-closes, so the status the API chose is read on the server side.
    const answered = new Promise<ServerResponse>((resolve) => {
      api.server.once('request', (_req: IncomingMessage, res: ServerResponse) => resolve(res));
    });
    const socket = tcpConnect(port, '127.0.0.1');
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.end(
      'POST /v1/data/generate HTTP/1.1\r\nHost: localhost\r\n' +
        `x-api-key: ${KEY_A}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"application_description": "cut`,
    );
    const res = await answered;
    await closed;
    expect(received).toMatch(/^HTTP\/1\.1 400 /);
    const status = await waitFor(async () => (res.statusCode !== 200 ? res.statusCode : undefined), 5_000, 'the API to answer the aborted upload');
    expect(status).toBe(400);
  });
});

describe('a broken %-escape', () => {
  const broken = '%E0%A4%A';

  it.each([
    ['GET', `/v1/data/generate/${broken}`],
    ['GET', `/data/generate/${broken}`],
    ['HEAD', `/v1/data/generate/${broken}`],
    ['DELETE', `/v1/data/generate/${broken}`],
    ['DELETE', `/data/generate/${broken}`],
    ['GET', `/v1/data/generate/${broken}/data`],
    ['GET', `/v1/data/generate/${broken}/messages`],
    ['GET', `/data/generate/${broken}/messages`],
  ])('in the job id of %s %s answers 400', async (method, path) => {
    const answer = await send(method, path);
    if (method === 'HEAD') {
      expect(answer.status).toBe(400);
      return;
    }
    expectClientError(answer, 400, new RegExp(`decode param '${broken}'`));
  });

  it('in the job id still needs an API key first', async () => {
    const answer = await send('GET', `/v1/data/generate/${broken}`, { 'x-api-key': '' });
    expectClientError(answer, 401, /API key/);
  });

  it('in the query string is read as it stands: a state filter it does not name is a 422, an unknown parameter is ignored', async () => {
    const filtered = await send('GET', `/v1/data/generate?state=${broken}`);
    expect(filtered.status).toBe(422);
    expect(filtered.json.detail[0].loc).toEqual(['query', 'state']);
    const job = await send('GET', `/v1/data/generate/${jobId}?x=${broken}`);
    expect(job.status).toBe(200);
    expect(job.json.job_id).toBe(jobId);
  });

  it('in an unknown path is a 404', async () => {
    expectClientError(await send('GET', `/v1/nothing/${broken}`), 404, /No such route/);
  });
});
