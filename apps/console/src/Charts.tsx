import { useMemo, type ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { REASON_LABELS } from './RejectedList';
import type { Item, JobStatus, Rejected } from './types';
import { costSentence, formatNumber } from './util';

// Okabe-Ito: told apart with the common colour-vision deficiencies.
const COLORS = {
  accepted: '#009E73',
  exact_duplicate: '#D55E00',
  near_duplicate: '#E69F00',
  filtered: '#56B4E9',
  bad: '#CC79A7',
  input: '#0072B2',
  output: '#E69F00',
  rejected: '#8C959F',
};

/** Each chart has a caption and a sentence saying what it shows, for those who do not see it. */
function Figure({ title, summary, children, id }: { title: string; summary: string; children: ReactNode; id: string }) {
  return (
    <figure className="chart card" aria-labelledby={`${id}-title`} aria-describedby={`${id}-summary`} data-testid={id}>
      <figcaption>
        <h3 id={`${id}-title`}>{title}</h3>
        <p id={`${id}-summary`} className="muted">{summary}</p>
      </figcaption>
      <div className="chart-box">{children}</div>
    </figure>
  );
}

interface BatchRow {
  batch: number;
  accepted: number;
  exact_duplicate: number;
  near_duplicate: number;
  filtered: number;
  bad: number;
}

/** The job report as charts: per batch, similarity, themes, tokens and cost. */
export default function Charts({ status, items, rejected }: { status: JobStatus; items: Item[]; rejected: Rejected[] }) {
  const batches = useMemo(() => {
    const rows = new Map<number, BatchRow>();
    const row = (batch: number) => {
      let r = rows.get(batch);
      if (!r) rows.set(batch, (r = { batch, accepted: 0, exact_duplicate: 0, near_duplicate: 0, filtered: 0, bad: 0 }));
      return r;
    };
    for (const item of items) if (item.batch !== null) row(item.batch).accepted++;
    for (const r of rejected) row(r.batch)[r.reason]++;
    return [...rows.values()].sort((a, b) => a.batch - b.batch);
  }, [items, rejected]);

  const similarity = useMemo(() => {
    // Neighbours are recorded from ROUGE-L 0.3 up: below that, one bar.
    const bins = [{ range: '< 0.3', accepted: 0, duplicates: 0 }];
    for (let lo = 30; lo < 100; lo += 5) bins.push({ range: `${(lo / 100).toFixed(2)}`, accepted: 0, duplicates: 0 });
    const bin = (s: number) => (s < 0.3 ? 0 : Math.min(bins.length - 1, 1 + Math.floor((s - 0.3 + 1e-9) / 0.05)));
    for (const item of items) bins[bin(item.nearest?.similarity ?? 0)]!.accepted++;
    for (const r of rejected) if (r.duplicate_of) bins[bin(r.duplicate_of.similarity)]!.duplicates++;
    return bins;
  }, [items, rejected]);

  const themes = useMemo(() => {
    const counts = new Map<string, { theme: string; accepted: number; rejected: number }>();
    const row = (theme: string | null) => {
      const name = theme ?? '(none recorded)';
      let r = counts.get(name);
      if (!r) counts.set(name, (r = { theme: name, accepted: 0, rejected: 0 }));
      return r;
    };
    for (const item of items) row(item.theme).accepted++;
    for (const r of rejected) row(r.theme).rejected++;
    return [...counts.values()].sort((a, b) => b.accepted - a.accepted || a.theme.localeCompare(b.theme));
  }, [items, rejected]);

  const { usage, report } = status;
  const tokens = [
    { kind: 'Input tokens', tokens: usage.input_tokens, fill: COLORS.input },
    { kind: 'Output tokens', tokens: usage.output_tokens, fill: COLORS.output },
  ];
  const perInput = report.cost.billed_tokens_per_accepted;
  const rejectedCount = rejected.length;
  const duplicates = rejected.filter((r) => r.duplicate_of).length;
  const emptiest = themes.length > 0 ? themes[themes.length - 1]! : null;

  return (
    <div className="charts">
      <Figure
        id="chart-batches"
        title="Accepted and rejected per batch"
        summary={`${batches.length} batches so far: ${items.length} inputs accepted, ${rejectedCount} candidates rejected.`}
      >
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={batches} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="batch" label={{ value: 'batch', position: 'insideBottom', offset: -4 }} height={36} />
            <YAxis allowDecimals={false} width={36} />
            <Tooltip />
            <Legend verticalAlign="top" itemSorter={null} />
            <Bar dataKey="accepted" name="accepted" stackId="a" fill={COLORS.accepted} isAnimationActive={false} />
            {(['exact_duplicate', 'near_duplicate', 'filtered', 'bad'] as const).map((reason) => (
              <Bar key={reason} dataKey={reason} name={REASON_LABELS[reason]} stackId="a" fill={COLORS[reason]} isAnimationActive={false} />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </Figure>

      <Figure
        id="chart-similarity"
        title="Similarity to the nearest seed or input"
        summary={`ROUGE-L of each accepted input with its nearest neighbour (${items.length}), and of each rejected duplicate with what it repeats (${duplicates}).`}
      >
        <ResponsiveContainer width="100%" height={240}>
          <BarChart data={similarity} margin={{ top: 8, right: 8, bottom: 8, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" vertical={false} />
            <XAxis dataKey="range" interval="preserveStartEnd" label={{ value: 'similarity (bins of 0.05)', position: 'insideBottom', offset: -4 }} height={36} />
            <YAxis allowDecimals={false} width={36} />
            <Tooltip />
            <Legend verticalAlign="top" itemSorter={null} />
            <Bar dataKey="accepted" name="accepted inputs" stackId="s" fill={COLORS.accepted} isAnimationActive={false} />
            <Bar dataKey="duplicates" name="rejected duplicates" stackId="s" fill={COLORS.exact_duplicate} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Figure>

      <Figure
        id="chart-themes"
        title="Coverage of the themes"
        summary={
          themes.length === 0
            ? 'No inputs yet.'
            : `${themes.length} themes; the least covered, ${emptiest!.theme}, has ${emptiest!.accepted} inputs.`
        }
      >
        <ResponsiveContainer width="100%" height={Math.max(160, 28 * themes.length + 60)}>
          <BarChart data={themes} layout="vertical" margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
            <CartesianGrid strokeDasharray="3 3" horizontal={false} />
            <XAxis type="number" allowDecimals={false} />
            <YAxis type="category" dataKey="theme" width={130} tick={{ fontSize: 12 }} />
            <Tooltip />
            <Legend verticalAlign="top" itemSorter={null} />
            <Bar dataKey="accepted" name="accepted" stackId="t" fill={COLORS.accepted} isAnimationActive={false} />
            <Bar dataKey="rejected" name="rejected" stackId="t" fill={COLORS.rejected} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </Figure>

      <Figure
        id="chart-tokens"
        title="Tokens and cost"
        summary={`${formatNumber(usage.llm_calls)} LLM calls, ${formatNumber(usage.input_tokens + usage.output_tokens)} tokens${perInput === null ? '' : ` (${formatNumber(perInput)} billed per accepted input)`}; ${costSentence(report.cost)}.`}
      >
        {usage.input_tokens + usage.output_tokens === 0 ? (
          // Empty axes would say nothing: say why there are no tokens.
          <p className="empty" data-testid="chart-tokens-empty">
            {usage.llm_calls === 0
              ? 'No LLM calls yet.'
              : 'No tokens billed: the calls went to the offline generator, which is not an LLM and costs nothing.'}
          </p>
        ) : (
          <ResponsiveContainer width="100%" height={160}>
            <BarChart data={tokens} layout="vertical" margin={{ top: 8, right: 16, bottom: 8, left: 8 }}>
              <CartesianGrid strokeDasharray="3 3" horizontal={false} />
              <XAxis type="number" allowDecimals={false} tickFormatter={(v: number) => formatNumber(v)} />
              <YAxis type="category" dataKey="kind" width={100} />
              <Tooltip formatter={(v) => formatNumber(Number(v))} />
              <Bar dataKey="tokens" name="tokens" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        )}
      </Figure>
    </div>
  );
}
