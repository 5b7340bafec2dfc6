import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { SequenceProvider, uniqueSentence } from '../../../test/support/providers';
import { KEY_A, KEY_B, startStack, waitFor, type TestStack } from '../../../test/support/stack';

/**
 * The web console end to end, in a real browser: headless Chromium (Debian's
 * package, /usr/bin/chromium; CHROMIUM_PATH names another) driven by
 * playwright-core, against the real API and a worker started in-process. The
 * API serves the built console (apps/console/dist: `npm test` builds first).
 *
 * Without the browser or the build these tests fail, they do not skip: CI
 * installs Chromium (.ci/run) and builds before testing.
 *
 * Screenshots go to CONSOLE_SCREENSHOTS_DIR (the README's are made with
 * CONSOLE_SCREENSHOTS_DIR=docs), else to a temporary folder.
 */

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const DIST_INDEX = path.resolve(__dirname, '../dist/index.html');
const SHOTS = path.resolve(process.env.CONSOLE_SCREENSHOTS_DIR || path.join(os.tmpdir(), 'datagen-console-screenshots'));
// The flags the machine's notes give for Chromium here: no sandbox as root, and no background
// connections to the outside (which this machine's closed network refuses).
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const LAPTOP = { width: 1366, height: 768 };
const PHONE = { width: 390, height: 844 };
const N = 40;

const SEEDS = [
  'How do I reset my router when the lights keep blinking orange?',
  'My bill doubled this month and I did not change my plan, why?',
  'Can I move my internet service to a new flat next week?',
];

/**
 * Candidates with something to reject: every 7th repeats the one before it
 * (an exact duplicate), every 7th + 2 nearly repeats it (one word changed, a
 * near duplicate), every 11th + 6 is meta-text (filtered). Slow enough to watch.
 */
function decorate(text: string, n: number): string {
  if (n % 7 === 3 && n > 0) return uniqueSentence(n - 1);
  if (n % 7 === 5 && n > 0) return uniqueSentence(n - 1).replace(/ (\w+)\?$/, ' lighthouse?');
  if (n % 11 === 6) return 'As an AI language model, here are some inputs:';
  return text;
}

let stack: TestStack;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const requests: Array<{ url: string; key: string | undefined }> = [];
const pageErrors: string[] = [];
let firstJob = '';

async function api(pathAndQuery: string, key = KEY_A): Promise<any> {
  const res = await fetch(`${stack.url}${pathAndQuery}`, { headers: { 'x-api-key': key } });
  if (!res.ok) throw new Error(`${pathAndQuery} answered ${res.status}`);
  return res.json();
}

/** What the console's text for a job's progress says, e.g. "12 of 40 inputs (30 %)". */
async function progress(): Promise<{ done: number; of: number }> {
  const text = (await page.getByTestId('progress-text').textContent()) ?? '';
  const match = /(\d+) of (\d+) inputs/.exec(text);
  return match ? { done: Number(match[1]), of: Number(match[2]) } : { done: -1, of: -1 };
}

/** The job page's cost section and the tokens chart's summary say what the API's report.cost says. */
async function expectCost(status: any): Promise<void> {
  const cost = status.report.cost;
  const section = page.getByTestId('cost');
  await section.getByRole('heading', { name: 'Cost' }).waitFor();
  const text = (await section.textContent())!;
  expect(text).toContain('Per 1,000 accepted inputs');
  expect(text).toContain(`Billed tokens per accepted input${cost.billed_tokens_per_accepted.toLocaleString('en-US')}`);
  expect(text).toContain(`Prompt cache${cost.cache_read_tokens.toLocaleString('en-US')} tokens read`);
  expect(text).toContain(`Batch API (economy)${cost.batch_requests} request`);
  const summary = (await page.locator('#chart-tokens-summary').textContent())!;
  if (cost.estimated_usd === null) {
    expect(cost.note).toMatch(/unknown price/);
    expect(await page.getByTestId('cost-note').textContent()).toBe(`No estimate: ${cost.note}.`);
    expect(summary).toContain(`no cost estimate: ${cost.note}`);
  } else {
    expect(text).not.toContain('No estimate');
    expect(summary).toMatch(/estimated cost \$[\d.]+ \(\$[\d.]+ per 1,000 accepted inputs\)/);
  }
}

async function signIn(key: string): Promise<void> {
  await page.goto(`${stack.url}/console/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium; .ci/run does) or set CHROMIUM_PATH.`);
  }
  if (!existsSync(DIST_INDEX)) throw new Error(`The console is not built (${DIST_INDEX} is missing): run npm run build.`);
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ provider: new SequenceProvider({ latencyMs: 150, decorate }), env: { JOB_MAX_PARALLEL_BATCHES: '2' } });
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: LAPTOP, acceptDownloads: true });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('request', (request) => requests.push({ url: request.url(), key: request.headers()['x-api-key'] }));
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    // The browser logs each 4xx answer ("Failed to load resource"); the tests cause those on purpose.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) pageErrors.push(message.text());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('the web console', () => {
  it('is served at /console without a key, and linked from /', async () => {
    const home = await fetch(`${stack.url}/`);
    expect(home.status).toBe(200);
    const html = await home.text();
    for (const link of ['href="/console/"', 'href="/docs"', 'href="/openapi.json"']) expect(html).toContain(link);

    const bare = await fetch(`${stack.url}/console`, { redirect: 'manual' });
    expect([bare.status, bare.headers.get('location')]).toEqual([301, '/console/']);
    const index = await fetch(`${stack.url}/console/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const assets = [...(await index.text()).matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.startsWith('/console/assets/'))).toBe(true);
    for (const asset of assets) expect(asset).not.toMatch(/^(https?:)?\/\//); // nothing from another host
    // the API itself still asks for a key
    expect((await fetch(`${stack.url}/v1/data/generate`)).status).toBe(401);
  });

  it('says plainly when a key is wrong', async () => {
    await signIn('not-a-key');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('The API did not accept this key: Invalid API key.');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('signs in with a key, kept in the session only', async () => {
    await signIn(KEY_A);
    await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
    await page.getByText('No jobs yet for this key.').waitFor();
    expect(await page.evaluate(() => [sessionStorage.getItem('datagen.console.apiKey'), localStorage.length, document.cookie])).toEqual([KEY_A, 0, '']);
  });

  it("shows the API's 422 errors by their fields", async () => {
    await page.getByRole('link', { name: 'New job', exact: true }).first().click();
    await page.getByRole('heading', { name: 'New job', level: 1 }).waitFor();
    await page.getByLabel('Application description').fill('   ');
    await page.getByLabel('Batch size').fill('11');
    await page.getByRole('button', { name: 'Start the job' }).click();

    const batch = page.getByLabel('Batch size');
    await expect(waitFor(async () => (await batch.getAttribute('aria-invalid')) === 'true', 10_000, 'batch size marked invalid')).resolves.toBe(true);
    const batchError = page.locator(`#${await batch.getAttribute('aria-describedby')}`);
    expect(await batchError.textContent()).toMatch(/10/);
    const description = page.getByLabel('Application description');
    expect(await description.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await description.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`#${describedBy[describedBy.length - 1]}`).textContent()).toContain('must not be empty');
    expect(await page.locator('.error-summary').textContent()).toContain('2 problems');
    // the first field in trouble has the focus
    expect(await description.evaluate((el) => el === document.activeElement)).toBe(true);
    expect((await api('/v1/data/generate')).length).toBe(0);
  });

  it("shows the 422s of economy mode (no batch API here) and of a webhook (no secret here) by their fields, and creates no job", async () => {
    await page.getByLabel('Application description').fill('A support assistant for a home internet provider');
    await page.getByLabel('Batch size').fill('5');
    const economy = page.getByLabel('Economy mode (half price, slower)');
    await economy.check();
    expect(await page.locator(`#${(await economy.getAttribute('aria-describedby'))!}`).textContent()).toMatch(/batch API, at half the price.*minutes to hours.*Not the batch size/s);
    await page.getByRole('button', { name: 'Start the job' }).click();

    await waitFor(async () => (await economy.getAttribute('aria-invalid')) === 'true', 10_000, 'economy marked invalid');
    const economyErrors = (await economy.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`#${economyErrors[economyErrors.length - 1]}`).textContent()).toContain('economy mode needs an LLM provider with a batch API');
    expect(await page.locator('.error-summary').textContent()).toContain('1 problem, shown by its field');
    expect(await economy.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await page.getByLabel('Batch size').getAttribute('aria-invalid')).toBeNull(); // the earlier problems are gone
    await page.screenshot({ path: path.join(SHOTS, 'console-form.png'), fullPage: true });

    // Keyboard: the box unticks with the space bar.
    await page.keyboard.press('Space');
    expect(await economy.isChecked()).toBe(false);
    await page.getByLabel('Webhook URL').fill('https://example.com/hooks/datagen');
    await page.getByRole('button', { name: 'Start the job' }).click();
    const webhook = page.getByLabel('Webhook URL');
    await waitFor(async () => (await webhook.getAttribute('aria-invalid')) === 'true', 10_000, 'the webhook URL marked invalid');
    expect(await economy.getAttribute('aria-invalid')).toBeNull();
    const webhookErrors = (await webhook.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`#${webhookErrors[webhookErrors.length - 1]}`).textContent()).toContain('this server sends no webhooks (WEBHOOK_SECRET is not set)');

    // At phone width the form is one column, nothing wider than the screen.
    await page.setViewportSize(PHONE);
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await page.screenshot({ path: path.join(SHOTS, 'console-form-phone.png'), fullPage: true });
    await page.setViewportSize(LAPTOP);
    expect((await api('/v1/data/generate')).length).toBe(0);

    // A fresh form for the next test (the boxes touched here would be sent).
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.getByRole('link', { name: 'New job', exact: true }).first().click();
    await page.getByRole('heading', { name: 'New job', level: 1 }).waitFor();
  });

  it('creates a job through the form, seeds from a JSON Lines file, and watches it finish live', async () => {
    await page.getByLabel('Application description').fill('A support assistant for a home internet provider');
    await page.getByLabel('Number of inputs to generate').fill(String(N));
    await page.getByLabel('Batch size').fill('5');
    await page.getByLabel('Exploration mode').selectOption('BALANCED');
    await page.getByLabel('Run batches in parallel').uncheck();
    await page.getByLabel('Load seeds from a file').setInputFiles({
      name: 'seeds.jsonl',
      mimeType: 'application/x-ndjson',
      buffer: Buffer.from(SEEDS.map((input) => JSON.stringify({ input })).join('\n') + '\n'),
    });
    await page.getByText('3 seeds from seeds.jsonl').waitFor();
    await page.getByRole('button', { name: 'Start the job' }).click();

    await page.waitForURL(/#\/jobs\/[0-9a-f]+$/);
    firstJob = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    // The page updates by itself: part done, then all done.
    const partway = await waitFor(async () => {
      const p = await progress();
      return p.done > 0 && p.done < N ? p : null;
    }, 20_000, 'the progress to show a job partway');
    expect(partway.of).toBe(N);
    await page.locator('.badge', { hasText: 'DONE' }).waitFor({ timeout: 30_000 });
    expect(await progress()).toEqual({ done: N, of: N });
    expect(await page.locator('#job-progress').evaluate((el) => [(el as HTMLProgressElement).value, (el as HTMLProgressElement).max])).toEqual([N, N]);
    await page.getByTestId('items-count').filter({ hasText: `${N} inputs` }).waitFor();

    // what the form sent is what the job got
    const status = await api(`/v1/data/generate/${firstJob}`);
    expect(status.state).toBe('DONE');
    expect(status.data).toHaveLength(N);
    expect(status.detailed_status[1]).toMatch(/5 per batch/);
    expect(status.detailed_status[1]).toMatch(/up to 1 batches at a time/) // run_parallel_batches: false;

    // the report as charts: bars drawn in each
    for (const id of ['chart-batches', 'chart-similarity', 'chart-themes', 'chart-tokens']) {
      await page.getByTestId(id).locator('.recharts-bar-rectangle').first().waitFor();
    }
    const messages = await page.getByRole('log', { name: 'Job messages' }).textContent();
    expect(messages).toContain(status.detailed_status[status.detailed_status.length - 1]);
    await expectCost(status);
  }, 60_000);

  it('filters the data table by search, theme, critic verdict and similarity', async () => {
    const items: any[] = await api(`/v1/data/generate/${firstJob}/items?limit=1000`);
    const count = page.getByTestId('items-count');
    const expectCount = (n: number) => count.filter({ hasText: new RegExp(`^${n} of ${N} inputs match$`) }).waitFor();
    const rows = page.getByRole('region', { name: 'Accepted inputs and their provenance' }).locator('tbody tr');

    const theme = items[0].theme as string;
    await page.getByLabel('Theme', { exact: true }).selectOption(theme);
    await expectCount(items.filter((i) => i.theme === theme).length);
    expect(await rows.count()).toBe(items.filter((i) => i.theme === theme).length);
    await page.getByRole('button', { name: 'Clear filters' }).click();

    const needle = items[7].input.slice(0, 14) as string; // "Question 12: a" and the like
    await page.getByLabel('Search').fill(needle);
    await expectCount(items.filter((i) => i.input.toLowerCase().includes(needle.toLowerCase())).length);
    expect(await rows.first().textContent()).toContain(needle);
    await page.getByRole('button', { name: 'Clear filters' }).click();

    await page.getByLabel('Critic verdict').selectOption('bad');
    await expectCount(0);
    await page.getByLabel('Critic verdict').selectOption('good');
    await expectCount(items.filter((i) => i.critic?.verdict === 'good').length);
    await page.getByRole('button', { name: 'Clear filters' }).click();

    await page.getByLabel('Lowest nearest similarity').fill('0.3');
    await page.getByLabel('Highest nearest similarity').fill('0.6');
    await expectCount(items.filter((i) => (i.nearest?.similarity ?? 0) >= 0.3 && (i.nearest?.similarity ?? 0) <= 0.6).length);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await count.filter({ hasText: `${N} inputs` }).waitFor();
  });

  it('opens a rejected candidate with its reason', async () => {
    const rejected: any[] = await api(`/v1/data/generate/${firstJob}/rejected?limit=1000`);
    const reasons = new Set(rejected.map((r) => r.reason));
    expect(reasons).toEqual(new Set(['exact_duplicate', 'near_duplicate', 'filtered']));
    const exact = rejected.find((r) => r.reason === 'exact_duplicate');

    await page.getByLabel('Reason', { exact: true }).selectOption('exact_duplicate');
    const button = page.getByRole('region', { name: 'Rejected candidates' }).getByRole('button', { name: exact.input, exact: true }).first();
    await button.click();
    const dialog = page.getByRole('dialog', { name: `Rejected candidate ${exact.index}` });
    await dialog.waitFor();
    const text = (await dialog.textContent())!;
    expect(text).toContain('exact duplicate');
    expect(text).toContain(exact.detail);
    expect(text).toContain(`${exact.duplicate_of.source} ${exact.duplicate_of.index}, similarity 1.00`);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await button.evaluate((el) => el === document.activeElement)).toBe(true); // focus goes back
    await page.getByLabel('Reason', { exact: true }).selectOption('');
  });

  it('downloads the data as JSONL and CSV, made from the items endpoint', async () => {
    const items: any[] = await api(`/v1/data/generate/${firstJob}/items?limit=1000`);
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download JSONL' }).click()]);
    expect(jsonl.suggestedFilename()).toBe(`${firstJob}.jsonl`);
    const lines = readFileSync((await jsonl.path())!, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((line) => JSON.parse(line))).toEqual(items);

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    const rows = readFileSync((await csv.path())!, 'utf8').split('\r\n');
    expect(rows[0]).toBe('index,input,batch,theme,examples,model,temperature,critic_verdict,critic_reason,nearest_source,nearest_index,nearest_similarity,accepted_at');
    expect(rows).toHaveLength(N + 2); // header, N rows, and the empty string after the last line break
    expect(rows[1]!.startsWith(`0,${items[0].input},`)).toBe(true);
  });

  it('gives a curl snippet that reproduces the job', async () => {
    const snippet = page.getByTestId('snippet');
    for (const kind of ['withpi (TypeScript)', 'datagen CLI']) {
      await page.getByLabel(kind, { exact: true }).check();
      expect(await snippet.textContent()).toContain('A support assistant for a home internet provider');
    }
    expect(await snippet.textContent()).toContain('--seeds seeds.jsonl');
    await page.getByLabel('curl', { exact: true }).check();
    const curl = (await snippet.textContent())!;
    for (const seed of SEEDS) expect(curl).toContain(seed);
    // Run it as it is shown, with the key in DATAGEN_API_KEY (not synchronously: the API runs in this process).
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('bash', ['-c', curl], { env: { ...process.env, DATAGEN_API_KEY: KEY_A }, timeout: 15_000 }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    const answer = JSON.parse(stdout);
    expect(answer.state).toBe('QUEUED');
    expect(answer.num_inputs_to_generate).toBe(N);
    await fetch(`${stack.url}/v1/data/generate/${answer.job_id}`, { method: 'DELETE', headers: { 'x-api-key': KEY_A } });
  });

  it('cancels a running job', async () => {
    await page.goto(`${stack.url}/console/#/new`);
    await page.getByLabel('Application description').fill('A support assistant for a home internet provider');
    await page.getByLabel('Number of inputs to generate').fill('500');
    await page.getByLabel('Seeds, one a line').fill(SEEDS.join('\n'));
    await page.getByLabel('Run batches in parallel').uncheck();
    await page.getByRole('button', { name: 'Start the job' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f]+$/);
    const jobId = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await waitFor(async () => (await progress()).done > 0, 20_000, 'the job to have started');
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.locator('.badge', { hasText: 'CANCELLED' }).waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Cancel job' }).count()).toBe(0);
    const status = await api(`/v1/data/generate/${jobId}`);
    expect(status.state).toBe('CANCELLED');
    expect(status.num_generated).toBeLessThan(500);
  }, 60_000);

  it('runs a job into a named dataset, and its snippets carry the name', async () => {
    await page.goto(`${stack.url}/console/#/new`);
    await page.getByLabel('Application description').fill('A support assistant for a home internet provider');
    await page.getByLabel('Number of inputs to generate').fill('10');
    await page.getByLabel('Seeds, one a line').fill(SEEDS.join('\n'));
    await page.getByLabel('Dataset').fill('support-faq.v1');
    await page.getByRole('button', { name: 'Start the job' }).click();
    await page.waitForURL(/#\/jobs\/[0-9a-f]+$/);
    const jobId = decodeURIComponent(page.url().split('#/jobs/')[1]!);
    await page.locator('.badge', { hasText: 'DONE' }).waitFor({ timeout: 30_000 });
    expect(await progress()).toEqual({ done: 10, of: 10 });
    const datasets: any[] = await api('/v1/datasets');
    expect(datasets.find((d) => d.name === 'support-faq.v1')).toMatchObject({ items: 10, jobs: 1 });
    await expectCost(await api(`/v1/data/generate/${jobId}`));

    const snippet = page.getByTestId('snippet');
    expect(await snippet.textContent()).toContain('"dataset": "support-faq.v1"'); // curl, the first shown
    await page.getByLabel('withpi (TypeScript)', { exact: true }).check();
    const withpi = (await snippet.textContent())!;
    expect(withpi).toContain('"dataset": "support-faq.v1"');
    expect(withpi).toContain('as Parameters<typeof client.data.generate.startJob>[0]');
    await page.getByLabel('datagen CLI', { exact: true }).check();
    const cli = (await snippet.textContent())!;
    expect(cli).toContain("--dataset 'support-faq.v1'");
    expect(cli).not.toContain('--economy'); // left alone in the form: not sent
    await page.getByLabel('curl', { exact: true }).check();

    // The offline generator has a price; a model without one answers a note instead of an estimate,
    // which the page shows (the API's answer for this job, its cost made unknown in the browser).
    const statusUrl = `${stack.url}/v1/data/generate/${jobId}`;
    let unpriced: any;
    await page.route(statusUrl, async (route) => {
      const real = await (await route.fetch()).json();
      const note = 'unknown price for model test-model: set LLM_PRICES, or LLM_PRICE_INPUT_PER_MTOK and LLM_PRICE_OUTPUT_PER_MTOK';
      real.report.estimated_cost_usd = null;
      Object.assign(real.report.cost, { estimated_usd: null, per_1000_accepted_usd: null, cache_savings_usd: null, discount_usd: null, note });
      unpriced = real;
      await route.fulfill({ json: real });
    });
    await page.reload();
    await page.getByTestId('cost-note').waitFor();
    await expectCost(unpriced);
    expect(await page.getByTestId('cost').textContent()).toContain('Per 1,000 accepted inputsunknown');
    await page.getByTestId('cost').screenshot({ path: path.join(SHOTS, 'console-cost-note.png') });
    await page.unroute(statusUrl);
  }, 60_000);

  it('fits a job page on a phone, long theme names and all, and says why a job has no tokens', async () => {
    // The API's answers for the first job, changed in the browser: a long theme (the filter's
    // options once widened the page) and no tokens billed (the offline generator's calls).
    const longTheme = 'a first-time user asking about the home internet provider, comparing two plans side by side in detail';
    await page.route(`${stack.url}/v1/data/generate/${firstJob}/items?*`, async (route) => {
      const real = await (await route.fetch()).json();
      if (Array.isArray(real) && real.length > 0) real[0].theme = longTheme;
      await route.fulfill({ json: real });
    });
    const statusUrl = `${stack.url}/v1/data/generate/${firstJob}`;
    await page.route(statusUrl, async (route) => {
      const real = await (await route.fetch()).json();
      real.usage = { ...real.usage, input_tokens: 0, output_tokens: 0 };
      await route.fulfill({ json: real });
    });
    try {
      await page.setViewportSize(PHONE);
      await page.goto(`${stack.url}/console/#/jobs/${firstJob}`);
      await page.getByTestId('items-count').filter({ hasText: `${N} inputs` }).waitFor();
      await page.getByRole('option', { name: longTheme }).waitFor({ state: 'attached' });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
      expect(await page.getByTestId('chart-tokens-empty').textContent()).toContain('No tokens billed');
    } finally {
      await page.unroute(`${stack.url}/v1/data/generate/${firstJob}/items?*`);
      await page.unroute(statusUrl);
      await page.setViewportSize(LAPTOP);
    }
  });

  it('lists the jobs with their state and progress, filtered by state', async () => {
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const table = page.getByRole('region', { name: 'Jobs' });
    await table.locator('tbody tr').nth(2).waitFor();
    const row = table.locator(`tr[data-job-id="${firstJob}"]`);
    expect(await row.textContent()).toContain(`${N} / ${N}`);
    expect(await row.locator('.badge').textContent()).toBe('DONE');

    await page.getByLabel('State', { exact: true }).selectOption('CANCELLED');
    await table.locator(`tr[data-job-id="${firstJob}"]`).waitFor({ state: 'detached' });
    const cancelled: any[] = await api('/v1/data/generate?state=CANCELLED');
    await waitFor(async () => (await table.locator('tbody tr').count()) === cancelled.length, 10_000, 'the CANCELLED jobs only');
    await page.getByLabel('State', { exact: true }).selectOption('');
  });

  it('takes the screenshots of the README', async () => {
    // The finished job at laptop width, down to the end of the charts.
    await page.goto(`${stack.url}/console/#/jobs/${firstJob}`);
    await page.getByTestId('chart-tokens').locator('.recharts-bar-rectangle').first().waitFor();
    await page.getByTestId('items-count').filter({ hasText: `${N} inputs` }).waitFor();
    const charts = (await page.locator('.charts').boundingBox())!;
    await page.screenshot({ path: path.join(SHOTS, 'console-job.png'), fullPage: true, clip: { x: 0, y: 0, width: LAPTOP.width, height: Math.ceil(charts.y + charts.height + 16) } });

    // The jobs list on a phone.
    await page.setViewportSize(PHONE);
    await page.goto(`${stack.url}/console/#/jobs`);
    await page.getByRole('region', { name: 'Jobs' }).locator('tbody tr').nth(2).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'console-phone.png') });
    await page.setViewportSize(LAPTOP);
    for (const name of ['console-job.png', 'console-phone.png']) expect(existsSync(path.join(SHOTS, name))).toBe(true);
  });

  it("does not show one key's jobs to another", async () => {
    await page.goto(`${stack.url}/console/#/jobs`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.getByLabel('API key').fill(KEY_B);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('No jobs yet for this key.').waitFor();
    await page.goto(`${stack.url}/console/#/jobs/${firstJob}`);
    await page.getByRole('heading', { name: 'Job not found' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toContain(firstJob);
  });

  it('sent every API call with the key, and fetched nothing from elsewhere', () => {
    const apiCalls = requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
    expect(apiCalls.length).toBeGreaterThan(10);
    expect(apiCalls.filter((r) => !r.key)).toEqual([]);
    expect(requests.filter((r) => !r.url.startsWith(`${stack.url}/`) && !r.url.startsWith('blob:') && !r.url.startsWith('data:'))).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
