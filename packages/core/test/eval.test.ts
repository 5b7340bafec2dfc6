import { EXPLORATION_MODES, OfflineGenerator, seedFromString, type ExplorationMode } from '@datagen/core';
import { EVAL_APPLICATIONS, type EvalApplication } from '../src/eval/applications';
import { formatChangeTable, formatModeTable, renderQualityDoc, verdict } from '../src/eval/report';
import { compareModes, countFarFromSeeds, runEval, type EvalResult, type ModeSummary } from '../src/eval/runEval';

/**
 * The evaluation behind `npm run eval`, on a small N with the offline
 * generator (seeded, so every run of this test sees the same numbers). The
 * diversity assertions are the ones that held for every one of 30 seeds we
 * tried, with margins well inside what those seeds showed; see docs/quality.md
 * for the measures that do not rise at every step.
 */

const N = 40;
const APPS = ['stories', 'sql'];

function offlineEval(seed: number, apps = APPS, n = N): Promise<EvalResult> {
  return runEval({
    n,
    applications: EVAL_APPLICATIONS.filter((app) => apps.includes(app.id)),
    modes: [...EXPLORATION_MODES],
    seed,
    providerFor: (app: EvalApplication, mode: ExplorationMode) => new OfflineGenerator({ seed: seedFromString(`offline:${seed}:${app.id}:${mode}`) }),
  });
}

const byMode = (result: EvalResult, mode: ExplorationMode): ModeSummary => result.modes.find((m) => m.mode === mode)!;

describe('runEval with the offline generator', () => {
  let result: EvalResult;

  beforeAll(async () => {
    result = await offlineEval(1);
  });

  it('runs the four modes on every application and accepts exactly N in each run', () => {
    expect(result.modes.map((m) => m.mode)).toEqual(['CONSERVATIVE', 'BALANCED', 'CREATIVE', 'ADVENTUROUS']);
    expect(result.runs).toHaveLength(APPS.length * 4);
    for (const run of result.runs) {
      expect({ run: `${run.application}/${run.mode}`, state: run.outcome.state, accepted: run.accepted.length }).toEqual({
        run: `${run.application}/${run.mode}`,
        state: 'DONE',
        accepted: N,
      });
      // Accepted means new: no input twice, and no seed among them.
      const seeds = EVAL_APPLICATIONS.find((app) => app.id === run.application)!.seeds;
      expect(new Set(run.accepted).size).toBe(N);
      expect(run.accepted.filter((input) => seeds.includes(input))).toEqual([]);
    }
    for (const mode of result.modes) {
      expect(mode.runs).toBe(APPS.length);
      expect(mode.runsDone).toBe(APPS.length);
      expect(mode.accepted).toBe(APPS.length * N);
      // Every batch of the offline generator is a "call" with a (zero) usage.
      expect(mode.calls).toBeGreaterThanOrEqual(Math.ceil(mode.accepted / 5));
      expect(mode.callsPerAccepted).toBeCloseTo(mode.calls / mode.accepted);
      expect(mode.tokens).toBe(0);
    }
  });

  it('makes the set less alike at every step from CONSERVATIVE to ADVENTUROUS (mean pairwise similarity falls)', () => {
    const similarity = result.modes.map((m) => m.meanPairwiseSimilarity);
    for (let i = 1; i < similarity.length; i++) expect(similarity[i]).toBeLessThan(similarity[i - 1]!);
    const change = result.changes!.find((c) => c.key === 'meanPairwiseSimilarity')!;
    expect(change.monotone).toBe(true);
    expect(change.rises).toBe(true);
    // 30 seeds: at least a 44 % fall.
    expect(change.percent!).toBeLessThan(-25);
  });

  it('moves away from the seeds: far more ADVENTUROUS inputs than CONSERVATIVE ones have no seed within ROUGE-L 0.3', () => {
    const conservative = byMode(result, 'CONSERVATIVE').farFromSeedsShare;
    const adventurous = byMode(result, 'ADVENTUROUS').farFromSeedsShare;
    // 30 seeds: CONSERVATIVE 0-1 %, ADVENTUROUS 29-56 %.
    expect(conservative).toBeLessThan(0.1);
    expect(adventurous - conservative).toBeGreaterThan(0.15);
    expect(result.changes!.find((c) => c.key === 'farFromSeedsShare')!.rises).toBe(true);
  });

  it('also rises from CONSERVATIVE to ADVENTUROUS on distinct-2 and the compression ratio (not at every step)', () => {
    const [first, last] = [byMode(result, 'CONSERVATIVE'), byMode(result, 'ADVENTUROUS')];
    // 30 seeds: distinct-2 +39 % or more, compression ratio -20 % or more.
    expect(last.distinct2).toBeGreaterThan(first.distinct2 * 1.15);
    expect(last.compressionRatio).toBeLessThan(first.compressionRatio * 0.9);
  });

  it('is reproducible: the same seed gives the same inputs, another seed other inputs', async () => {
    const first = await offlineEval(1, ['sql'], 15);
    const second = await offlineEval(1, ['sql'], 15);
    const other = await offlineEval(2, ['sql'], 15);
    expect(second.runs.map((r) => r.accepted)).toEqual(first.runs.map((r) => r.accepted));
    expect(second.modes).toEqual(first.modes);
    expect(other.runs.map((r) => r.accepted)).not.toEqual(first.runs.map((r) => r.accepted));
  });

  it('prints a table per mode and a document with the verdict', () => {
    const table = formatModeTable(result);
    for (const mode of EXPLORATION_MODES) expect(table).toContain(`| ${mode}`);
    expect(formatChangeTable(result)).toMatch(/mean pairwise similarity .*\| yes +\| yes/);
    expect(verdict(result)[0]).toMatch(/^Diversity rises at every step from CONSERVATIVE to ADVENTUROUS on/);
    const doc = renderQualityDoc(result, { provider: 'offline generator', isLlm: false, date: '2026-01-01T00:00:00Z', machine: 'test', node: '20', command: 'npm run eval' });
    expect(doc).toContain('## How to read the columns');
    expect(doc).toContain(table);
  });
});

describe('eval measures', () => {
  it('countFarFromSeeds counts inputs with no seed at ROUGE-L 0.3 or more', () => {
    const seeds = ['write a story about a turtle', 'which region sold most'];
    // F1 = 2·LCS/(n+m): 10/12 with the first seed; 2/11 ("a"); 2/10 ("a"); 6/7 with the second seed.
    const inputs = ['write a story about a fox', 'plan a trip to japan', 'a quick hello there', 'which region sold'];
    expect(countFarFromSeeds(inputs, seeds)).toBe(2);
    expect(countFarFromSeeds([], seeds)).toBe(0);
  });

  it('compareModes names the steps where diversity does not rise', () => {
    const summary = (mode: ExplorationMode, similarity: number, distinct2: number): ModeSummary => ({
      mode,
      runs: 1,
      runsDone: 1,
      distinct1: 0.5,
      distinct2,
      meanPairwiseSimilarity: similarity,
      compressionRatio: 3,
      farFromSeedsShare: 0,
      wordsPerInput: 10,
      accepted: 10,
      similar: 0,
      bad: 0,
      unusableAnswers: 0,
      calls: 2,
      tokens: 0,
      callsPerAccepted: 0.2,
      tokensPerAccepted: 0,
    });
    const changes = compareModes([
      summary('CONSERVATIVE', 0.4, 0.3),
      summary('BALANCED', 0.3, 0.5),
      summary('CREATIVE', 0.2, 0.4),
      summary('ADVENTUROUS', 0.1, 0.6),
    ]);
    const similarity = changes.find((c) => c.key === 'meanPairwiseSimilarity')!;
    expect(similarity).toMatchObject({ rises: true, monotone: true, reversals: [] });
    expect(similarity.absolute).toBeCloseTo(-0.3);
    expect(similarity.percent).toBeCloseTo(-75);
    const distinct2 = changes.find((c) => c.key === 'distinct2')!;
    expect(distinct2).toMatchObject({ rises: true, monotone: false, reversals: [['BALANCED', 'CREATIVE']] });
    expect(distinct2.percent).toBeCloseTo(100);
    const flat = changes.find((c) => c.key === 'compressionRatio')!;
    expect(flat).toMatchObject({ rises: false, monotone: false });
    expect(changes.find((c) => c.key === 'farFromSeedsShare')!.percent).toBeNull();
  });
});
