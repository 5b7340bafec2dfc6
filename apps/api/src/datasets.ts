import { Router, type Response } from 'express';
import { datasetNameSchema, exportQuerySchema } from '@datagen/core';
import type { ApiContext } from './context';
import { HttpError, validationError, withTimeout } from './errors';
import { parquetOfStrings } from './parquet';
import { writeJsonLines } from './streams';
import { csvField } from './csv';

/**
 * A key's datasets: its named sets of inputs across jobs (a job names one
 * with `dataset`). List, read, export (JSON lines, CSV, Parquet), delete.
 */
export function datasetsRouter(ctx: ApiContext): Router {
  const router = Router();
  const { jobs } = ctx;
  const timeout = <T>(p: Promise<T>) => withTimeout(p, ctx.redisTimeoutMs);
  const PAGE = 5_000;

  router.get('/datasets', async (_req, res) => {
    res.json(await timeout(jobs.datasets(tenantOf(res))));
  });

  router.get('/datasets/:name', async (req, res) => {
    res.json(await timeout(jobs.dataset(tenantOf(res), nameOf(req.params.name))));
  });

  router.get('/datasets/:name/export', async (req, res) => {
    const query = exportQuerySchema.safeParse(req.query);
    if (!query.success) throw validationError(query.error, 'query', req.query);
    const tenant = tenantOf(res);
    const name = nameOf(req.params.name);
    const info = await timeout(jobs.dataset(tenant, name)); // 404 before anything is sent
    const page = async (offset: number) => {
      const entries = await timeout(jobs.datasetItems(tenant, name, offset, PAGE));
      const last = entries[entries.length - 1];
      return { entries: entries.map(({ input, job_id }) => ({ input, job_id })), next: entries.length === PAGE && last !== undefined ? last.index + 1 : null };
    };
    res.setHeader('Content-Disposition', `attachment; filename="${name}.${query.data.format}"`);
    if (query.data.format === 'jsonl') {
      await writeJsonLines(res, await page(0), page);
      return;
    }
    // CSV and Parquet: the whole dataset (at most DATASET_MAX_ITEMS inputs), read in pages.
    const inputs: string[] = [];
    const jobIds: string[] = [];
    for (let next: number | null = 0; next !== null; ) {
      const p: { entries: Array<{ input: string; job_id: string }>; next: number | null } = await page(next);
      for (const e of p.entries) {
        inputs.push(e.input);
        jobIds.push(e.job_id);
      }
      next = p.next;
    }
    if (query.data.format === 'csv') {
      res.type('text/csv; charset=utf-8');
      res.send(['input,job_id', ...inputs.map((input, i) => `${csvField(input)},${jobIds[i]}`)].join('\r\n') + '\r\n');
      return;
    }
    res.type('application/vnd.apache.parquet');
    res.setHeader('X-Dataset-Items', String(info.items));
    res.send(await parquetOfStrings([{ name: 'input', data: inputs }, { name: 'job_id', data: jobIds }]));
  });

  router.delete('/datasets/:name', async (req, res) => {
    const name = nameOf(req.params.name);
    await timeout(jobs.deleteDataset(tenantOf(res), name));
    res.json(`Dataset ${name} deleted.`);
  });

  return router;
}

function tenantOf(res: Response): string {
  return res.locals.tenant as string;
}

function nameOf(value: unknown): string {
  const parsed = datasetNameSchema.safeParse(value);
  if (!parsed.success) throw new HttpError(422, [{ loc: ['path', 'name'], msg: parsed.error.issues[0]!.message, type: 'string_pattern_mismatch' }]);
  return parsed.data;
}
