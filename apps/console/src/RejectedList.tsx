import { useRef, useState } from 'react';
import { refLabel, refText } from './ItemsTable';
import { REJECT_REASONS, type Item, type JobRequest, type Rejected, type RejectReason } from './types';
import { formatTime } from './util';

const PAGE = 50;

export const REASON_LABELS: Record<RejectReason, string> = {
  exact_duplicate: 'exact duplicate',
  near_duplicate: 'near duplicate',
  filtered: 'filtered',
  bad: 'bad (critic)',
};

/** The candidates the job did not keep, with their reasons; one opens in a dialog with all it is known for. */
export function RejectedList({ rejected, items, request }: { rejected: Rejected[]; items: Item[]; request: JobRequest | null }) {
  const [reason, setReason] = useState<RejectReason | ''>('');
  const [shown, setShown] = useState(PAGE);
  const [open, setOpen] = useState<Rejected | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);
  const matching = reason ? rejected.filter((r) => r.reason === reason) : rejected;

  function show(entry: Rejected) {
    setOpen(entry);
    dialog.current?.showModal();
  }

  return (
    <section aria-labelledby="rejected-title">
      <h2 id="rejected-title">Rejected candidates</h2>
      <div className="toolbar">
        <label htmlFor="rejected-reason">Reason</label>
        <select id="rejected-reason" value={reason} onChange={(e) => { setReason(e.target.value as RejectReason | ''); setShown(PAGE); }}>
          <option value="">All reasons</option>
          {REJECT_REASONS.map((r) => (
            <option key={r} value={r}>{REASON_LABELS[r]}</option>
          ))}
        </select>
        <span className="muted" role="status">{reason ? `${matching.length} of ${rejected.length}` : `${rejected.length}`} rejected</span>
      </div>
      {matching.length > 0 && (
        <div className="table-scroll" role="region" aria-label="Rejected candidates" tabIndex={0}>
          <table className="rejected">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Reason</th>
                <th scope="col">Candidate (open for details)</th>
                <th scope="col">Batch</th>
                <th scope="col">Theme</th>
              </tr>
            </thead>
            <tbody>
              {matching.slice(0, shown).map((entry) => (
                <tr key={entry.index}>
                  <td>{entry.index}</td>
                  <td><span className={`reason reason-${entry.reason}`}>{REASON_LABELS[entry.reason]}</span></td>
                  <td>
                    <button type="button" className="link candidate" onClick={() => show(entry)} aria-haspopup="dialog">
                      {entry.input === '' ? <em>(empty)</em> : entry.input}
                    </button>
                  </td>
                  <td>{entry.batch}</td>
                  <td>{entry.theme ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {matching.length > shown && (
        <button type="button" className="more" onClick={() => setShown(shown + PAGE)}>
          Show {Math.min(PAGE, matching.length - shown)} more ({matching.length - shown} not shown)
        </button>
      )}
      <dialog ref={dialog} aria-labelledby="rejected-dialog-title" onClose={() => setOpen(null)}>
        {open && (
          <div className="dialog-body">
            <h3 id="rejected-dialog-title">Rejected candidate {open.index}</h3>
            <blockquote className="input-text">{open.input === '' ? <em>(empty)</em> : open.input}</blockquote>
            <dl className="details">
              <dt>Reason</dt>
              <dd>{REASON_LABELS[open.reason]}</dd>
              <dt>Why</dt>
              <dd>{open.detail}</dd>
              {open.duplicate_of && (
                <>
                  <dt>Duplicate of</dt>
                  <dd>
                    {refLabel(open.duplicate_of)}, similarity {open.duplicate_of.similarity.toFixed(2)}
                    {(() => {
                      const text = refText(open.duplicate_of, items, request);
                      return text === null ? (
                        open.duplicate_of.source === 'seed' && <span className="muted"> (the seeds of a job created elsewhere are not known here)</span>
                      ) : (
                        <blockquote className="input-text">{text}</blockquote>
                      );
                    })()}
                  </dd>
                </>
              )}
              {open.filter && (
                <>
                  <dt>Filter</dt>
                  <dd>{open.filter}</dd>
                </>
              )}
              <dt>Batch</dt>
              <dd>{open.batch}</dd>
              <dt>Theme</dt>
              <dd>{open.theme ?? '—'}</dd>
              <dt>Rejected at</dt>
              <dd>{formatTime(open.rejected_at)}</dd>
            </dl>
            <form method="dialog">
              <button type="submit" className="primary">Close</button>
            </form>
          </div>
        )}
      </dialog>
    </section>
  );
}
