import { useEffect, useRef } from 'react';
import type { Cost, JobState } from './types';

/**
 * Runs `tick` now and then every `ms` while `active`, one at a time (the
 * next waits for the last to finish), until unmounted or `deps` change;
 * `current()` tells a tick whether its answers are still wanted.
 */
export function usePoll(tick: (current: () => boolean) => Promise<void>, ms: number, active: boolean, deps: readonly unknown[]): void {
  const latest = useRef(tick);
  useEffect(() => {
    latest.current = tick;
  });
  useEffect(() => {
    if (!active) return;
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        await latest.current(() => alive);
      } finally {
        if (alive) timer = setTimeout(run, ms);
      }
    };
    void run();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- restarts on what the caller names
  }, [ms, active, ...deps]);
}

export function StateBadge({ state }: { state: JobState }) {
  return <span className={`badge state-${state.toLowerCase()}`}>{state}</span>;
}

export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

export function formatNumber(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return 'unknown (model of unknown price)';
  return usd < 0.01 && usd !== 0 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

/**
 * The job's cost in one sentence (the tokens chart's summary says it): the
 * estimate and its price per 1,000 accepted inputs, or why there is none.
 */
export function costSentence(cost: Cost): string {
  if (cost.estimated_usd === null) return `no cost estimate: ${cost.note ?? 'unknown price'}`;
  const per1000 = cost.per_1000_accepted_usd === null ? '' : ` (${formatUsd(cost.per_1000_accepted_usd)} per 1,000 accepted inputs)`;
  const discount = cost.discount_usd ? `, ${formatUsd(cost.discount_usd)} off through the batch API` : '';
  return `estimated cost ${formatUsd(cost.estimated_usd)}${per1000}${discount}`;
}

export function percent(part: number, whole: number): string {
  return whole === 0 ? '0 %' : `${Math.floor((100 * part) / whole)} %`;
}
