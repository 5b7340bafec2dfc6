import { useDeferredValue, useMemo, useState } from 'react';
import type { Item, JobRequest, SourceRef, Verdict } from './types';

const PAGE = 50;

export function refLabel(ref: SourceRef): string {
  return `${ref.source} ${ref.index}`;
}

/** The text of a seed or an earlier input, when the console knows it (not a dataset's input: another job wrote it). */
export function refText(ref: SourceRef, items: readonly Item[], request: JobRequest | null): string | null {
  if (ref.source === 'input') return items[ref.index]?.input ?? null;
  if (ref.source === 'seed') return request?.seeds[ref.index] ?? null;
  return null;
}

type VerdictFilter = '' | Verdict | 'none';

/**
 * The accepted inputs with their provenance: theme, critic verdict, nearest
 * neighbour and its similarity, batch and the examples the prompt showed;
 * searchable and filtered by theme, verdict and similarity range.
 */
export function ItemsTable({ items, request }: { items: Item[]; request: JobRequest | null }) {
  const [search, setSearch] = useState('');
  const [theme, setTheme] = useState('');
  const [verdict, setVerdict] = useState<VerdictFilter>('');
  const [minSim, setMinSim] = useState('');
  const [maxSim, setMaxSim] = useState('');
  const [shown, setShown] = useState(PAGE);
  const query = useDeferredValue(search.trim().toLowerCase());

  const themes = useMemo(() => [...new Set(items.map((i) => i.theme).filter((t): t is string => t !== null))].sort(), [items]);
  const low = minSim.trim() === '' ? null : Number(minSim);
  const high = maxSim.trim() === '' ? null : Number(maxSim);
  const rangeError = (low !== null && Number.isNaN(low)) || (high !== null && Number.isNaN(high)) ? 'Similarity bounds are numbers from 0 to 1.' : low !== null && high !== null && low > high ? 'The lowest similarity is above the highest.' : null;

  const matching = useMemo(
    () =>
      items.filter((item) => {
        if (query && !item.input.toLowerCase().includes(query)) return false;
        if (theme && item.theme !== theme) return false;
        if (verdict === 'none' ? item.critic !== null : verdict && item.critic?.verdict !== verdict) return false;
        // No neighbour recorded: below 0.3, where the dedup index stops recording.
        const similarity = item.nearest?.similarity ?? 0;
        if (low !== null && !Number.isNaN(low) && similarity < low) return false;
        if (high !== null && !Number.isNaN(high) && similarity > high) return false;
        return true;
      }),
    [items, query, theme, verdict, low, high],
  );
  const filtered = query !== '' || theme !== '' || verdict !== '' || low !== null || high !== null;

  function clear() {
    setSearch('');
    setTheme('');
    setVerdict('');
    setMinSim('');
    setMaxSim('');
  }

  return (
    <section aria-labelledby="items-title">
      <h2 id="items-title">Data</h2>
      <form className="filters" role="search" aria-label="Filter the data" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="items-search">Search</label>
          <input id="items-search" type="search" value={search} onChange={(e) => { setSearch(e.target.value); setShown(PAGE); }} />
        </div>
        <div className="field">
          <label htmlFor="items-theme">Theme</label>
          <select id="items-theme" value={theme} onChange={(e) => { setTheme(e.target.value); setShown(PAGE); }}>
            <option value="">All themes</option>
            {themes.map((t) => (
              <option key={t} value={t}>{t}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="items-verdict">Critic verdict</label>
          <select id="items-verdict" value={verdict} onChange={(e) => { setVerdict(e.target.value as VerdictFilter); setShown(PAGE); }}>
            <option value="">Any verdict</option>
            <option value="good">good</option>
            <option value="bad">bad</option>
            <option value="unjudged">unjudged</option>
            <option value="none">not recorded</option>
          </select>
        </div>
        <fieldset className="field range">
          <legend>Nearest similarity</legend>
          <label htmlFor="items-sim-min" className="visually-hidden">Lowest nearest similarity</label>
          <input id="items-sim-min" type="number" min={0} max={1} step={0.05} placeholder="0" value={minSim} onChange={(e) => setMinSim(e.target.value)} aria-invalid={rangeError ? true : undefined} />
          <span aria-hidden="true">to</span>
          <label htmlFor="items-sim-max" className="visually-hidden">Highest nearest similarity</label>
          <input id="items-sim-max" type="number" min={0} max={1} step={0.05} placeholder="1" value={maxSim} onChange={(e) => setMaxSim(e.target.value)} aria-invalid={rangeError ? true : undefined} />
        </fieldset>
        {filtered && <button type="button" onClick={clear}>Clear filters</button>}
      </form>
      {rangeError && <p className="field-error" role="alert">{rangeError}</p>}
      <p className="muted" role="status" data-testid="items-count">
        {filtered ? `${matching.length} of ${items.length} inputs match` : `${items.length} inputs`}
      </p>
      {matching.length > 0 && (
        <div className="table-scroll" role="region" aria-label="Accepted inputs and their provenance" tabIndex={0}>
          <table className="items">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Input</th>
                <th scope="col">Theme</th>
                <th scope="col">Critic</th>
                <th scope="col">Nearest</th>
                <th scope="col">Batch</th>
                <th scope="col">Examples shown</th>
              </tr>
            </thead>
            <tbody>
              {matching.slice(0, shown).map((item) => (
                <tr key={item.index}>
                  <td>{item.index}</td>
                  <td className="input-text">{item.input}</td>
                  <td>{item.theme ?? '—'}</td>
                  <td>
                    {item.critic ? (
                      <span className={`verdict verdict-${item.critic.verdict}`} title={item.critic.reason ?? undefined}>
                        {item.critic.verdict}
                      </span>
                    ) : '—'}
                    {item.critic?.reason && <span className="visually-hidden">: {item.critic.reason}</span>}
                  </td>
                  <td>
                    {item.nearest ? (
                      <span title={refText(item.nearest, items, request) ?? undefined}>
                        {item.nearest.similarity.toFixed(2)} <span className="muted">({refLabel(item.nearest)})</span>
                      </span>
                    ) : (
                      <span className="muted">&lt; 0.3</span>
                    )}
                  </td>
                  <td>{item.batch ?? '—'}</td>
                  <td className="examples">{item.examples.map(refLabel).join(', ') || '—'}</td>
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
    </section>
  );
}
