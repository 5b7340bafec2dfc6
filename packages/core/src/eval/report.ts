import { FAR_FROM_SEEDS, type EvalResult, type MeasureChange, type RunResult } from './runEval';

/**
 * The evaluation as text: the per-mode table `npm run eval` prints, and the
 * whole of docs/quality.md (how to run it, where it ran, the tables, how to
 * read them, and the verdict), so the document always matches a real run.
 */

export interface RunEnvironment {
  /** The provider's name, e.g. "offline generator" or "anthropic (claude-sonnet-5-5)". */
  provider: string;
  isLlm: boolean;
  /** ISO date and time of the run. */
  date: string;
  machine: string;
  node: string;
  /** The settings, as one would pass them again. */
  command: string;
}

const fixed = (digits: number) => (x: number) => x.toFixed(digits);
const percent = (x: number) => `${(100 * x).toFixed(1)} %`;

function markdownTable(header: string[], rows: string[][], align: Array<'l' | 'r'>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (align[i] === 'r' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The per-mode table: one row per mode, the diversity measures then the counts and cost. */
export function formatModeTable(result: EvalResult): string {
  const header = [
    'mode',
    'distinct-1 ↑',
    'distinct-2 ↑',
    'mean pairwise sim ↓',
    'compression ↓',
    `nearest seed < ${FAR_FROM_SEEDS} ↑`,
    'words / input',
    'accepted',
    'similar',
    'bad',
    'unusable',
    'calls / accepted',
    'tokens / accepted',
  ];
  const rows = result.modes.map((m) => [
    m.mode,
    fixed(3)(m.distinct1),
    fixed(3)(m.distinct2),
    fixed(3)(m.meanPairwiseSimilarity),
    fixed(2)(m.compressionRatio),
    percent(m.farFromSeedsShare),
    fixed(1)(m.wordsPerInput),
    String(m.accepted),
    String(m.similar),
    String(m.bad),
    String(m.unusableAnswers),
    fixed(3)(m.callsPerAccepted),
    m.tokensPerAccepted.toFixed(0),
  ]);
  return markdownTable(header, rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

function signed(x: number, format: (x: number) => string): string {
  return `${x >= 0 ? '+' : '−'}${format(Math.abs(x))}`;
}

function formatValue(change: MeasureChange, x: number): string {
  return change.key === 'farFromSeedsShare' ? percent(x) : change.key === 'compressionRatio' ? fixed(2)(x) : fixed(3)(x);
}

/** First mode to last (CONSERVATIVE to ADVENTUROUS), per diversity measure. */
export function formatChangeTable(result: EvalResult): string {
  if (result.changes === null) return '(one mode only: nothing to compare)';
  const first = result.modes[0]!.mode;
  const last = result.modes[result.modes.length - 1]!.mode;
  const header = ['measure', 'more diverse is', first, last, 'change', 'change %', `more diverse in ${last}`, 'rises at every step'];
  const rows = result.changes.map((c) => [
    c.label,
    c.moreDiverse,
    formatValue(c, c.from.value),
    formatValue(c, c.to.value),
    c.key === 'farFromSeedsShare' ? `${signed(100 * c.absolute, fixed(1))} pts` : signed(c.absolute, c.key === 'compressionRatio' ? fixed(2) : fixed(3)),
    c.percent === null ? 'n/a' : `${signed(c.percent, fixed(1))} %`,
    c.rises ? 'yes' : 'NO',
    c.monotone ? 'yes' : `no (${c.reversals.map(([a, b]) => `${a} → ${b}`).join(', ')})`,
  ]);
  return markdownTable(header, rows, ['l', 'l', 'r', 'r', 'r', 'r', 'l', 'l']);
}

/** One row per application and mode, for seeing whether one application carries the averages. */
export function formatRunTable(result: EvalResult): string {
  const header = [
    'application',
    'mode',
    'state',
    'accepted',
    'distinct-1',
    'distinct-2',
    'mean pairwise sim',
    'compression',
    `nearest seed < ${FAR_FROM_SEEDS}`,
    'words / input',
    'similar',
    'bad',
  ];
  const rows = result.runs.map((run: RunResult) => [
    run.application,
    run.mode,
    run.outcome.state,
    String(run.accepted.length),
    fixed(3)(run.diversity.distinct1),
    fixed(3)(run.diversity.distinct2),
    fixed(3)(run.diversity.meanPairwiseSimilarity),
    fixed(2)(run.diversity.compressionRatio),
    percent(run.accepted.length === 0 ? 0 : run.farFromSeeds / run.accepted.length),
    fixed(1)(run.accepted.length === 0 ? 0 : run.words / run.accepted.length),
    String(run.counts.exactDuplicates + run.counts.nearDuplicates),
    String((run.counts.bad ?? 0) + run.counts.filtered),
  ]);
  return markdownTable(header, rows, ['l', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']);
}

/** Runs that did not end DONE, each with its engine message. */
export function failedRuns(result: EvalResult): RunResult[] {
  return result.runs.filter((run) => run.outcome.state !== 'DONE');
}

/** The verdict in a few sentences: which measures rise, at every step or not, and by how much. */
export function verdict(result: EvalResult): string[] {
  if (result.changes === null) return ['Only one mode ran, so there is nothing to compare.'];
  const first = result.modes[0]!.mode;
  const last = result.modes[result.modes.length - 1]!.mode;
  const monotone = result.changes.filter((c) => c.monotone);
  const risesOnly = result.changes.filter((c) => c.rises && !c.monotone);
  const falls = result.changes.filter((c) => !c.rises);
  const describe = (c: MeasureChange) =>
    `${c.label} ${formatValue(c, c.from.value)} → ${formatValue(c, c.to.value)} (${c.percent === null ? 'n/a' : `${signed(c.percent, fixed(1))} %`})`;
  const lines: string[] = [];
  if (monotone.length === result.changes.length) {
    lines.push(`Diversity rises at every step from ${first} to ${last}, on all ${result.changes.length} measures.`);
  } else {
    lines.push(
      `Diversity rises at every step from ${first} to ${last} on ${monotone.length} of ${result.changes.length} measures` +
        (monotone.length > 0 ? ` (${monotone.map((c) => c.label).join(', ')})` : '') +
        '.',
    );
  }
  lines.push(`From ${first} to ${last}: ${result.changes.map(describe).join('; ')}.`);
  for (const c of risesOnly) {
    lines.push(
      `By ${c.label}, ${last} is more diverse than ${first}, but not at every step: it does not improve from ${c.reversals
        .map(([a, b]) => `${a} to ${b}`)
        .join(' or from ')}.`,
    );
  }
  for (const c of falls) {
    lines.push(`By ${c.label}, ${last} is NOT more diverse than ${first}.`);
  }
  const [shortest, longest] = [result.modes[0]!.wordsPerInput, result.modes[result.modes.length - 1]!.wordsPerInput];
  if (shortest > 0 && longest > shortest * 1.2) {
    lines.push(
      `Inputs grow from ${shortest.toFixed(1)} words in ${first} to ${longest.toFixed(1)} in ${last}. Distinct-n and the compression ratio ` +
        'are per word and per byte of the whole set, so longer inputs built from recurring phrases pull them back; read them with the length.',
    );
  }
  const failed = failedRuns(result);
  if (failed.length > 0) {
    lines.push(`${failed.length} run(s) did not accept all ${result.n} inputs: ${failed.map((r) => `${r.application}/${r.mode} ${r.outcome.state}`).join(', ')}.`);
  }
  return lines;
}

/** docs/quality.md. */
export function renderQualityDoc(result: EvalResult, env: RunEnvironment): string {
  const modes = result.modes.map((m) => m.mode).join(', ');
  return `# Generation quality: \`npm run eval\`

This file is written by \`npm run eval\` (\`packages/core/src/eval/\`); the numbers below are those of
the run described under "This run". Rerun it rather than editing them by hand.

## How to run it

\`\`\`bash
npm run eval                                      # offline generator, N=200 per application and mode
EVAL_N=50 EVAL_APPS=stories,sql npm run eval      # fewer inputs, some applications
EVAL_MODES=CONSERVATIVE,ADVENTUROUS npm run eval  # some modes
ANTHROPIC_API_KEY=sk-ant-… npm run eval           # against Claude, N=30 by default to bound the cost
EVAL_OUT=- npm run eval                           # print only, leave this file alone
\`\`\`

Settings, as environment variables or flags (\`node packages/core/dist/eval/main.js --help\`):
\`EVAL_N\` / \`--n\` (inputs per application and mode; 200 offline, 30 with an LLM), \`EVAL_APPS\` /
\`--apps\` (ids from \`packages/core/src/eval/applications.ts\`), \`EVAL_MODES\` / \`--modes\`,
\`EVAL_SEED\` / \`--seed\` (default 1), \`EVAL_OUT\` / \`--out\` (this file; \`-\` for none),
\`EVAL_CONCURRENCY\` (runs at once: 1 offline, 4 with an LLM). The provider is the service's own
choice (\`createProvider(loadConfig().llm)\`): Claude when \`ANTHROPIC_API_KEY\` is set, an
OpenAI-compatible server with \`LLM_PROVIDER=openai\`, else the offline generator. Offline, the
generator and the engine's sampling are seeded from \`EVAL_SEED\`, so a run is reproducible to the
digit; an LLM's runs are not.

Each application and mode is one job through the real engine (\`runGeneration\`: themes, shot
sampling, prompts, parsing, filters, the critic, exact and near dedup, temperature), run as the
worker runs it but with an in-memory sink instead of Redis: \`batch_size\` 5, \`num_shots\` 5,
themes on, the critic as \`CRITIC_ENABLED\` says (on by default), and the job limits from the
configuration (by default 4 batches in flight; 10 barren batches or 8 failed calls in a row end a
job).

## This run

- date: ${env.date}
- provider: ${env.provider}${env.isLlm ? '' : ' (not an LLM: it edits and recombines the seeds)'}
- machine: ${env.machine}, Node.js ${env.node}
- settings: N=${result.n} per application and mode, seed ${result.seed}, applications ${result.applications.join(', ')}, modes ${modes}
- command: \`${env.command}\`
- took ${(result.durationMs / 1000).toFixed(1)} s

### Per mode (diversity averaged over the applications, counts added up)

${formatModeTable(result)}

### ${result.modes[0]?.mode ?? ''} → ${result.modes[result.modes.length - 1]?.mode ?? ''}

${formatChangeTable(result)}

### Verdict

${verdict(result)
  .map((line) => `- ${line}`)
  .join('\n')}

### Per application

${formatRunTable(result)}

## How to read the columns

All similarity is ROUGE-L F1 on the normalised words (NFKC, case, punctuation, symbols, whitespace and invisible format characters folded):
the same measure the engine's near-duplicate check uses. ↑ means higher is more diverse, ↓ lower.

| column | what it is | how to read it |
|---|---|---|
| distinct-1 ↑ | unique words over all words of the accepted set, per application, then averaged | the vocabulary's breadth. It falls as sets get longer (common words repeat), so compare modes at the same N |
| distinct-2 ↑ | the same for word pairs | phrasing variety: a set that reuses sentence frames scores low even with new nouns |
| mean pairwise sim ↓ | mean ROUGE-L F1 over all pairs of accepted inputs (5,000 random pairs above 100 inputs) | how alike two inputs of the set are on average; 0 = nothing in common, 1 = the same words in the same order |
| compression ↓ | the set's size over its gzip size | repetition at the character level; 1 would be incompressible. Longer inputs with shared framing raise it |
| nearest seed < ${FAR_FROM_SEEDS} ↑ | share of accepted inputs whose most similar seed has ROUGE-L F1 below ${FAR_FROM_SEEDS} | how far the set strays from the examples: near 0 % is paraphrase of the seeds, near 100 % is new ground |
| words / input | mean length of an accepted input, in the words the measures count | context for distinct-n and compression, which fall and rise with length and with phrases that recur across inputs |
| accepted | inputs kept, over all applications (N per application when every run ended DONE) | below N × applications means a run stopped early; see the per-application table |
| similar | candidates rejected as exact or near duplicates (of a seed or an accepted input) | work spent on repeats; the near threshold is lower in the bolder modes, so they reject more for the same output |
| bad | candidates judged bad by the critic plus those dropped by the heuristic filters (meta-text, refusals, far off the seeds' length) | work spent on off-task output |
| unusable | answers with no usable input at all (refused, empty, unparsable), each retried | provider trouble, not diversity |
| calls / accepted | LLM calls (those recorded with a usage: generation and critic) per accepted input | cost in calls, critic calls included; the floor is 0.2 at 5 inputs a call, 0.4 with the critic judging each batch in one more call |
| tokens / accepted | input + output tokens per accepted input | cost in tokens; 0 for the offline generator, which uses none |

The change table compares the first mode with the last: "change" is absolute (in percentage points
for the share), "change %" relative to the first mode. "Rises at every step" says whether each
mode is more diverse than the one before it; where it is not, the steps that fail are named.

## What the modes change, and what the numbers can and cannot say

The modes differ by the prompt's directive, the share of shots drawn from accepted inputs, the
near-duplicate threshold and the temperature band (see the README's "Exploration modes" and
\`packages/core/src/engine/modes.ts\`). The threshold alone forces part of the rise: in
ADVENTUROUS no accepted input can share 55 % of its words in order with another one, in
CONSERVATIVE 85 %.

${
  env.isLlm
    ? env.provider.startsWith('anthropic')
      ? `This run used Claude. Its temperature is not sent (the API version of the SDK takes no
sampling parameters), so the modes differ by directive, shots and threshold only.`
      : `This run used an LLM behind an OpenAI-compatible server, which is sent the mode's temperature.`
    : `This run used the offline generator, which is not an LLM. It edits the examples it is shown:
it swaps typed details (an animal, a period, a city, a language), splices two examples at a
shared word, and, more often and more boldly as the mode rises, frames the request with sentences
drawn from short fixed lists (a user's context, constraints, unusual formats, edge cases,
demanding or terse users). Its numbers therefore measure the engine's mechanics (shot sampling,
dedup, thresholds, temperature) and the generator's own rules, not what a model would write.
Two consequences for reading them:

- The framing sentences recur across inputs and make them longer, so the bolder modes gain
  distance from the seeds and from each other (mean pairwise similarity, nearest seed) faster
  than they gain vocabulary: distinct-1 can fall and distinct-2 and the compression ratio can
  stall from one mode to the next even while the set spreads out.
- Applications whose seeds hold few details the generator knows how to swap (the support and
  travel ones here use its general word lists) move away from their seeds only through framing,
  so their "nearest seed" share stays low in every mode.

Run with \`ANTHROPIC_API_KEY\` set to measure a model.`
}
`;
}
