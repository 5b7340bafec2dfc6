import { Presets, SingleBar } from 'cli-progress';

/**
 * Progress of a generation on stderr (stdout may carry the data): a bar with
 * count, rate and ETA when stderr is a terminal, else a plain line now and
 * then (logs and CI have no use for carriage returns).
 */
export interface Progress {
  update(count: number): void;
  /** Leaves the bar (or prints a last line) and releases the terminal. */
  stop(): void;
}

export interface ProgressOptions {
  total: number;
  stream?: NodeJS.WriteStream;
  /** Plain mode: the least time between two lines. */
  intervalMs?: number;
  quiet?: boolean;
}

export function startProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet === true) return { update: () => undefined, stop: () => undefined };
  const inner = stream.isTTY === true ? barProgress(options.total, stream) : lineProgress(options.total, stream, options.intervalMs ?? 2_000);
  let stopped = false;
  return {
    update: (count) => {
      if (!stopped) inner.update(count);
    },
    stop: () => {
      if (!stopped) inner.stop();
      stopped = true;
    },
  };
}

class Rate {
  private readonly started = Date.now();

  /** Inputs a second since the start, and the seconds left at that pace. */
  measure(count: number, total: number): { rate: number; etaSeconds: number | null } {
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? count / seconds : 0;
    return { rate, etaSeconds: rate > 0 ? Math.max(0, (total - count) / rate) : null };
  }
}

function barProgress(total: number, stream: NodeJS.WriteStream): Progress {
  const rate = new Rate();
  const bar = new SingleBar(
    {
      stream,
      format: 'generating {bar} {value}/{total} inputs | {rate}/s | ETA {eta_left}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      fps: 5,
    },
    Presets.shades_classic,
  );
  const payload = (count: number) => {
    const m = rate.measure(count, total);
    return { rate: m.rate.toFixed(1), eta_left: m.etaSeconds === null ? '-' : formatSeconds(m.etaSeconds) };
  };
  bar.start(total, 0, payload(0));
  return {
    update(count) {
      bar.update(count, payload(count));
    },
    stop() {
      bar.stop();
    },
  };
}

function lineProgress(total: number, stream: NodeJS.WriteStream, intervalMs: number): Progress {
  const rate = new Rate();
  let last = 0;
  let shown = -1;
  let current = 0;
  const show = () => {
    const m = rate.measure(current, total);
    stream.write(`${current}/${total} inputs, ${m.rate.toFixed(1)}/s, ETA ${m.etaSeconds === null ? '-' : formatSeconds(m.etaSeconds)}\n`);
    shown = current;
    last = Date.now();
  };
  return {
    update(count) {
      current = count;
      if (count !== shown && (Date.now() - last >= intervalMs || count === total)) show();
    },
    stop() {
      if (current !== shown) show();
    },
  };
}

export function formatSeconds(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
