import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { ApiError } from './api';
import { describeError, useApi } from './context';
import { download, itemsCsv, itemsJsonl } from './exporting';
import { ItemsTable } from './ItemsTable';
import { RejectedList } from './RejectedList';
import { savedRequest } from './session';
import { Snippets } from './Snippets';
import { TERMINAL, type Cost, type Item, type JobStatus, type Rejected } from './types';
import { formatNumber, formatTime, formatUsd, percent, StateBadge, usePoll } from './util';

// recharts is most of the bundle: it comes in its own chunk, with the first job page.
const Charts = lazy(() => import('./Charts'));

const POLL_MS = 1_000;

/**
 * One job, live: its status (with ETag, so an unchanged job costs a 304),
 * and its items and rejected candidates fetched from where the last read
 * stopped, every second until the job has ended and everything is read.
 */
export function JobPage({ jobId }: { jobId: string }) {
  const ctx = useApi();
  const [status, setStatus] = useState<JobStatus | null>(null);
  const [items, setItems] = useState<Item[]>([]);
  const [rejected, setRejected] = useState<Rejected[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [notFound, setNotFound] = useState(false);
  const [done, setDone] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const read = useRef({ etag: undefined as string | undefined, items: 0, rejectedFrom: 0, state: null as string | null });

  usePoll(
    async (wanted) => {
      const seen = read.current;
      try {
        const answer = await ctx.api.job(jobId, seen.etag);
        if (!wanted()) return;
        let current = status;
        if (answer !== null) {
          current = answer.status;
          seen.etag = answer.etag ?? undefined;
          setStatus(answer.status);
        }
        if (current === null) return;
        const ended = TERMINAL.has(current.state);
        // Read what is new, from where the last read stopped (the status was read first, so an
        // ended job's items are all there by now).
        if (current.num_generated > seen.items || ended) {
          const more = await ctx.api.all(() => ctx.api.items(jobId, seen.items));
          if (!wanted()) return;
          if (more.length > 0) {
            seen.items += more.length;
            setItems((old) => [...old, ...more]);
          }
        }
        const newer = await ctx.api.all(() => ctx.api.rejected(jobId, seen.rejectedFrom));
        if (!wanted()) return;
        if (newer.length > 0) {
          seen.rejectedFrom = newer[newer.length - 1]!.index + 1;
          setRejected((old) => [...old, ...newer]);
        }
        setError(null);
        if (ended) setDone(true);
      } catch (e) {
        if (!wanted()) return;
        if (e instanceof ApiError && e.status === 404) setNotFound(true);
        else setError(describeError(e, ctx));
      }
    },
    POLL_MS,
    !done && !notFound,
    [jobId],
  );

  // Say when the job ends, for those who do not watch the badge.
  useEffect(() => {
    if (status === null) return;
    const previous = read.current.state;
    read.current.state = status.state;
    if (previous !== null && previous !== status.state && TERMINAL.has(status.state)) {
      setNotice(`The job ended ${status.state}: ${status.num_generated} of ${status.num_inputs_to_generate} inputs.`);
    }
  }, [status]);

  async function cancel() {
    setBusy('cancel');
    try {
      setNotice(await ctx.api.cancel(jobId));
    } catch (e) {
      setNotice(describeError(e, ctx));
    } finally {
      setBusy(null);
    }
  }

  async function save(format: 'jsonl' | 'csv') {
    setBusy(format);
    try {
      // Every item, read afresh from the items endpoint.
      const all = await ctx.api.all(() => ctx.api.items(jobId, 0));
      if (format === 'jsonl') download(`${jobId}.jsonl`, itemsJsonl(all), 'application/x-ndjson');
      else download(`${jobId}.csv`, itemsCsv(all), 'text/csv');
      setNotice(`Downloaded ${all.length} inputs as ${format.toUpperCase()}.`);
    } catch (e) {
      setNotice(describeError(e, ctx));
    } finally {
      setBusy(null);
    }
  }

  if (notFound) {
    return (
      <section aria-labelledby="job-title">
        <h1 id="job-title" tabIndex={-1}>Job not found</h1>
        <p className="error" role="alert">
          There is no job <code>{jobId}</code> for this API key (a job belongs to the key that created it).
        </p>
        <p><a href="#/jobs">Back to your jobs</a></p>
      </section>
    );
  }

  const open = status !== null && !TERMINAL.has(status.state);
  const request = savedRequest(jobId);
  return (
    <section aria-labelledby="job-title" className="job">
      <div className="page-head">
        <h1 id="job-title" tabIndex={-1}>
          Job <code className="job-id">{jobId}</code>
        </h1>
        {status && <StateBadge state={status.state} />}
      </div>
      <p className="muted"><a href="#/jobs">← All jobs</a>{status && <> · created {formatTime(status.created_at)}</>}</p>
      {error && <p className="error" role="alert">{error}</p>}
      <p className="notice" role="status">{notice}</p>
      {status === null ? (
        <p className="muted">Loading…</p>
      ) : (
        <>
          <div className="card progress-card">
            <label htmlFor="job-progress">Progress</label>
            <progress id="job-progress" max={status.num_inputs_to_generate} value={status.num_generated} />
            <p className="progress-text" data-testid="progress-text">
              {status.num_generated} of {status.num_inputs_to_generate} inputs ({percent(status.num_generated, status.num_inputs_to_generate)})
              {open ? ', updating live' : ''}
            </p>
            <div className="actions">
              {open && (
                <button type="button" className="danger" onClick={() => void cancel()} disabled={busy !== null}>
                  {busy === 'cancel' ? 'Cancelling…' : 'Cancel job'}
                </button>
              )}
              <button type="button" onClick={() => void save('jsonl')} disabled={busy !== null || status.num_generated === 0}>
                Download JSONL
              </button>
              <button type="button" onClick={() => void save('csv')} disabled={busy !== null || status.num_generated === 0}>
                Download CSV
              </button>
            </div>
          </div>

          <section aria-labelledby="report-title">
            <h2 id="report-title">Quality and cost</h2>
            <ReportFigures status={status} />
            <Suspense fallback={<p className="muted">Loading the charts…</p>}>
              <Charts status={status} items={items} rejected={rejected} />
            </Suspense>
          </section>

          <section aria-labelledby="messages-title">
            <h2 id="messages-title">Messages</h2>
            <Messages messages={status.detailed_status} />
          </section>

          <ItemsTable items={items} request={request} />
          <RejectedList rejected={rejected} items={items} request={request} />
          <Snippets request={request} numInputs={status.num_inputs_to_generate} />
        </>
      )}
    </section>
  );
}

function ReportFigures({ status }: { status: JobStatus }) {
  const { report, usage } = status;
  const rejected = report.rejected.exact_duplicate + report.rejected.near_duplicate + report.rejected.filtered + report.rejected.bad;
  const figures: Array<[string, string]> = [
    ['Accepted', formatNumber(report.accepted)],
    ['Rejected', `${formatNumber(rejected)} (exact ${report.rejected.exact_duplicate}, near ${report.rejected.near_duplicate}, filtered ${report.rejected.filtered}, bad ${report.rejected.bad})`],
    ['Unusable answers', formatNumber(report.unusable_answers)],
    ['LLM calls', formatNumber(usage.llm_calls)],
    ['Tokens', `${formatNumber(usage.input_tokens)} in, ${formatNumber(usage.output_tokens)} out`],
  ];
  if (report.diversity) {
    figures.push(
      ['Distinct-1 / distinct-2', `${report.diversity.distinct_1.toFixed(3)} / ${report.diversity.distinct_2.toFixed(3)}`],
      ['Mean pairwise similarity', report.diversity.mean_pairwise_similarity.toFixed(3)],
      ['Compression ratio', report.diversity.compression_ratio.toFixed(2)],
    );
  }
  return (
    <>
      <Figures figures={figures} />
      <CostFigures cost={report.cost} />
    </>
  );
}

function Figures({ figures, label }: { figures: Array<[string, string]>; label?: string }) {
  return (
    <dl className="figures" aria-label={label}>
      {figures.map(([name, value]) => (
        <div key={name}>
          <dt>{name}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** `report.cost`: the estimate and what it is made of; the note when the model's price is unknown. */
function CostFigures({ cost }: { cost: Cost }) {
  const known = cost.estimated_usd !== null;
  const usd = (value: number | null, before: string) => (value === null ? (known ? before : 'unknown') : formatUsd(value));
  const figures: Array<[string, string]> = [
    ['Estimated cost', known ? formatUsd(cost.estimated_usd) : 'unknown (see the note)'],
    ['Per 1,000 accepted inputs', usd(cost.per_1000_accepted_usd, 'none accepted yet')],
    ['Billed tokens per accepted input', cost.billed_tokens_per_accepted === null ? 'none accepted yet' : formatNumber(cost.billed_tokens_per_accepted)],
    ['Prompt cache', `${formatNumber(cost.cache_read_tokens)} tokens read, ${formatNumber(cost.cache_write_tokens)} written`],
    ['Saved by the prompt cache', usd(cost.cache_savings_usd, 'unknown')],
    ['Batch API (economy)', `${formatNumber(cost.batch_requests)} request${cost.batch_requests === 1 ? '' : 's'}, ${usd(cost.discount_usd, 'unknown')} off`],
  ];
  return (
    <div className="cost" data-testid="cost">
      <h3 id="cost-title">Cost</h3>
      <Figures figures={figures} label="Cost" />
      {cost.note && <p className="notice" data-testid="cost-note">No estimate: {cost.note}.</p>}
    </div>
  );
}

/** The job's messages, oldest first, kept scrolled to the newest while the reader has not scrolled up. */
function Messages({ messages }: { messages: string[] }) {
  const box = useRef<HTMLOListElement>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const el = box.current;
    if (el && pinned.current) el.scrollTop = el.scrollHeight;
  }, [messages.length]);
  return (
    <ol
      ref={box}
      className="messages"
      role="log"
      aria-label="Job messages"
      tabIndex={0}
      onScroll={(e) => {
        const el = e.currentTarget;
        pinned.current = el.scrollTop + el.clientHeight >= el.scrollHeight - 8;
      }}
    >
      {messages.map((message, i) => (
        <li key={i}>{message}</li>
      ))}
    </ol>
  );
}
