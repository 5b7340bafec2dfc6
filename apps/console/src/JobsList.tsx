import { useState } from 'react';
import { describeError, useApi } from './context';
import { JOB_STATES, type JobState, type JobStatus } from './types';
import { formatTime, percent, shortId, StateBadge, usePoll } from './util';

const PAGE_SIZE = 20;
const POLL_MS = 2_000;

/**
 * The key's jobs, newest first, refreshed every 2 s: a page at a time (the
 * API's Link header leads to older pages), optionally of one state.
 */
export function JobsList() {
  const ctx = useApi();
  const [state, setState] = useState<JobState | ''>('');
  /** The pages walked through: null is the newest; each other is a Link header's address. */
  const [pages, setPages] = useState<Array<string | null>>([null]);
  const [jobs, setJobs] = useState<JobStatus[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const current = pages[pages.length - 1] ?? null;

  usePoll(
    async (wanted) => {
      try {
        const page = await ctx.api.listJobs(current === null ? { state, limit: PAGE_SIZE } : { url: current });
        if (!wanted()) return;
        setJobs([...page.entries].reverse()); // the API answers the newest last within a page
        setNext(page.next);
        setError(null);
      } catch (e) {
        if (wanted()) setError(describeError(e, ctx));
      }
    },
    POLL_MS,
    true,
    [current, state],
  );

  function chooseState(value: JobState | '') {
    setState(value);
    setPages([null]);
    setJobs(null);
  }

  return (
    <section aria-labelledby="jobs-title">
      <div className="page-head">
        <h1 id="jobs-title" tabIndex={-1}>Jobs</h1>
        <a className="button primary" href="#/new">New job</a>
      </div>
      <div className="toolbar">
        <label htmlFor="state-filter">State</label>
        <select id="state-filter" value={state} onChange={(e) => chooseState(e.target.value as JobState | '')}>
          <option value="">All states</option>
          {JOB_STATES.map((s) => (
            <option key={s} value={s}>{s}</option>
          ))}
        </select>
        <span className="muted">Refreshed every {POLL_MS / 1000} s</span>
      </div>
      {error && <p className="error" role="alert">{error}</p>}
      {jobs === null && !error && <p className="muted">Loading…</p>}
      {jobs !== null && jobs.length === 0 && (
        <p className="empty">{state ? `No ${state} jobs.` : 'No jobs yet for this key.'} <a href="#/new">Start one</a>.</p>
      )}
      {jobs !== null && jobs.length > 0 && (
        <div className="table-scroll" role="region" aria-label="Jobs" tabIndex={0}>
          <table className="jobs stack-on-phone">
            <caption className="visually-hidden">Your jobs, newest first{state ? `, ${state} only` : ''}</caption>
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">State</th>
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
                <th scope="col">Last message</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((job) => (
                <tr key={job.job_id} data-job-id={job.job_id}>
                  <td data-label="Job">
                    <a href={`#/jobs/${encodeURIComponent(job.job_id)}`} aria-label={`Job ${job.job_id}`}>
                      <code>{shortId(job.job_id)}</code>
                    </a>
                  </td>
                  <td data-label="State"><StateBadge state={job.state} /></td>
                  <td data-label="Progress">
                    <div className="progress-cell">
                      <progress max={job.num_inputs_to_generate} value={job.num_generated} aria-label={`Job ${shortId(job.job_id)} progress`} />
                      <span>{job.num_generated} / {job.num_inputs_to_generate} ({percent(job.num_generated, job.num_inputs_to_generate)})</span>
                    </div>
                  </td>
                  <td data-label="Created">{formatTime(job.created_at)}</td>
                  <td data-label="Last message" className="message">{job.detailed_status[job.detailed_status.length - 1] ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav className="pager" aria-label="Pages of jobs">
        <button type="button" disabled={pages.length === 1} onClick={() => setPages(pages.slice(0, -1))}>
          ← Newer jobs
        </button>
        <span className="muted">Page {pages.length}</span>
        <button type="button" disabled={next === null} onClick={() => next !== null && setPages([...pages, next])}>
          Older jobs →
        </button>
      </nav>
    </section>
  );
}
