import {
  FatalLlmError,
  FIRST_SEEDS_COUNT,
  MODE_SETTINGS,
  RetryableLlmError,
  runGeneration,
  seededRandom,
  type BatchCounts,
  type EngineJob,
  type EngineOptions,
  type EngineOutcome,
  type GenerateBatchRequest,
  type GenerateBatchResult,
  type ItemProvenance,
  type JobRequest,
  type RejectedCandidate,
  type JobSink,
  type LlmProvider,
  type TokenUsage,
} from '@datagen/core';

// ---------------------------------------------------------------------------
// Test doubles of our own interfaces: an in-memory sink and scripted providers.

interface RecordedBatch {
  accepted: string[];
  usage: TokenUsage | null;
  message: string;
  counts?: BatchCounts;
  provenance?: ItemProvenance[];
  rejected?: RejectedCandidate[];
}

class MemorySink implements JobSink {
  readonly batches: RecordedBatch[] = [];
  /** Every message, from message() and from recordBatch(), in order. */
  readonly messages: string[] = [];
  readonly savedSeeds: string[][] = [];
  saveThemes?: (themes: string[]) => Promise<void>;
  /** Answers recordBatch's cancel flag; consulted after the batch is recorded. */
  cancelWhen: (sink: MemorySink) => boolean = () => false;

  get accepted(): string[] {
    return this.batches.flatMap((b) => b.accepted);
  }

  async recordBatch(batch: RecordedBatch): Promise<{ cancelRequested: boolean }> {
    this.batches.push({
      accepted: [...batch.accepted],
      usage: batch.usage === null ? null : { ...batch.usage },
      message: batch.message,
      counts: batch.counts,
      provenance: batch.provenance,
      rejected: batch.rejected,
    });
    this.messages.push(batch.message);
    return { cancelRequested: this.cancelWhen(this) };
  }

  async message(text: string): Promise<void> {
    this.messages.push(text);
  }

  async saveGeneratedSeeds(seeds: string[]): Promise<void> {
    this.savedSeeds.push([...seeds]);
  }

  /** The usages recorded, without the nulls of calls that threw. */
  get usages(): TokenUsage[] {
    return this.batches.flatMap((b) => (b.usage === null ? [] : [b.usage]));
  }
}

type Handler = (request: GenerateBatchRequest, call: number) => Promise<GenerateBatchResult> | GenerateBatchResult;

class ScriptedProvider implements LlmProvider {
  readonly requests: GenerateBatchRequest[] = [];
  /** The usage of every call that answered (not of calls that threw). */
  readonly usages: TokenUsage[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** Called at the start of every call, before the handler; for invariants checked from inside. */
  onCall: (request: GenerateBatchRequest, inFlightIncludingThis: number) => void = () => {};

  constructor(
    private readonly handler: Handler,
    readonly name = 'scripted test model',
    readonly isLlm = true,
  ) {}

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    const call = this.requests.length;
    this.requests.push(request);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.onCall(request, this.inFlight);
    try {
      const result = await this.handler(request, call);
      this.usages.push(result.usage);
      return result;
    } finally {
      this.inFlight--;
    }
  }
}

// ---------------------------------------------------------------------------
// Inputs: every fresh(i) shares no word with any other fresh(j) or seed.

const fresh = (i: number) => `alpha${i} bravo${i} charlie${i} delta${i} echo${i} foxtrot${i}`;
/** A near duplicate: the same six words with the last one changed (ROUGE-L F1 5/6). */
const nearOf = (text: string) => `${text.split(' ').slice(0, -1).join(' ')} zulu`;
/** An exact duplicate after normalisation. */
const shouted = (text: string) => `  ${text.toUpperCase()}!!  `;
const SEEDS = [0, 1, 2, 3].map((k) => `kilo${k} lima${k} mike${k} november${k} oscar${k} papa${k}`);
const USAGE = (call: number): TokenUsage => ({ inputTokens: 1000 + call, outputTokens: 10 + call });

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Rejects as an aborted fetch would, once the request's signal aborts; never resolves otherwise. */
function untilAborted(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (signal === undefined) return;
    const fail = () => reject(Object.assign(new Error('The operation was aborted'), { name: 'AbortError' }));
    if (signal.aborted) fail();
    else signal.addEventListener('abort', fail, { once: true });
  });
}

/** A provider answering every call with `count` new inputs, numbered on from `start`. */
function freshProvider(options: { start?: number; perCall?: (request: GenerateBatchRequest) => number; wait?: () => Promise<void> } = {}) {
  let next = options.start ?? 0;
  return new ScriptedProvider(async (request, call) => {
    await (options.wait ?? tick)();
    const n = options.perCall?.(request) ?? request.count;
    return { candidates: Array.from({ length: n }, () => fresh(next++)), usage: USAGE(call) };
  });
}

function jobRequest(overrides: Partial<JobRequest> = {}): JobRequest {
  return {
    application_description: 'A test application that answers questions about made-up words.',
    num_inputs_to_generate: 10,
    seeds: SEEDS,
    batch_size: 5,
    num_shots: 3,
    exploration_mode: 'BALANCED',
    ...overrides,
  };
}

function job(request: Partial<JobRequest> = {}, rest: Partial<Omit<EngineJob, 'request'>> = {}): EngineJob {
  return { jobId: 'job-test', request: jobRequest(request), accepted: [], generatedSeeds: null, ...rest };
}

const OPTIONS: EngineOptions = {
  maxParallelBatches: 1,
  maxBarrenBatches: 3,
  maxFailedCalls: 3,
  random: seededRandom(1),
  retryBaseDelayMs: 1,
  retryMaxDelayMs: 5,
};

async function run(
  engineJob: EngineJob,
  provider: LlmProvider,
  options: Partial<EngineOptions> = {},
  sink = new MemorySink(),
  signal: AbortSignal = new AbortController().signal,
): Promise<{ outcome: EngineOutcome; sink: MemorySink }> {
  const outcome = await runGeneration(engineJob, provider, sink, { ...OPTIONS, random: seededRandom(1), ...options }, signal);
  return { outcome, sink };
}

const sum = (usages: TokenUsage[]) =>
  usages.reduce((t, u) => ({ inputTokens: t.inputTokens + u.inputTokens, outputTokens: t.outputTokens + u.outputTokens }), {
    inputTokens: 0,
    outputTokens: 0,
  });

// ---------------------------------------------------------------------------

describe('runGeneration: exactly N', () => {
  it('accepts exactly N with maxParallelBatches 4, batch_size 10 and N = 7', async () => {
    const provider = freshProvider();
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 7, batch_size: 10 }), provider, { maxParallelBatches: 4 });
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toEqual([0, 1, 2, 3, 4, 5, 6].map(fresh));
    expect(provider.requests).toHaveLength(1); // one batch of ten covers seven
    expect(provider.requests[0]!.count).toBe(10);
    expect(outcome.message).toMatch(/Done: 7 inputs/);
  });

  it('never overshoots when a provider answers more than it was asked for, in parallel', async () => {
    // Four calls of two are in flight for seven inputs; each answers fifteen, all at once.
    const provider = freshProvider({ perCall: () => 15 });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 7, batch_size: 2 }), provider, {
      maxParallelBatches: 4,
      maxBarrenBatches: 1,
    });
    expect(provider.requests).toHaveLength(4);
    expect(sink.accepted).toHaveLength(7);
    expect(new Set(sink.accepted).size).toBe(7);
    // Batches cut short by the target are not "barren": the job is done, not stuck.
    expect(outcome).toEqual({ state: 'DONE', message: expect.stringMatching(/Done: 7 inputs/) });
  });

  it('a failed answer arriving after the target was reached does not turn DONE into ERROR', async () => {
    const provider = new ScriptedProvider(async (_, call) => {
      await tick();
      return { candidates: call === 0 ? [0, 1, 2, 3, 4].map(fresh) : 'I cannot write these.', usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 3, batch_size: 2 }), provider, {
      maxParallelBatches: 2,
      maxFailedCalls: 1,
    });
    expect(provider.requests).toHaveLength(2);
    expect(sink.accepted).toEqual([0, 1, 2].map(fresh));
    expect(outcome.state).toBe('DONE');
  });

  it('ends DONE with exactly N distinct inputs across sizes, batch sizes and parallelism', async () => {
    const random = seededRandom(5);
    for (const n of [1, 3, 7, 13, 25]) {
      for (const batchSize of [1, 3, 10]) {
        for (const parallel of [1, 2, 4]) {
          let next = 0;
          const provider = new ScriptedProvider(async (request, call) => {
            await delay(Math.floor(random() * 3));
            // about a third of what comes back is a repeat of something earlier, or of a seed
            const candidates = Array.from({ length: request.count }, () =>
              random() < 0.35 && next > 0 ? (random() < 0.5 ? fresh(Math.floor(random() * next)) : SEEDS[0]!) : fresh(next++),
            );
            return { candidates, usage: USAGE(call) };
          });
          const { outcome, sink } = await run(job({ num_inputs_to_generate: n, batch_size: batchSize }), provider, {
            maxParallelBatches: parallel,
            maxBarrenBatches: 50,
          });
          expect({ n, batchSize, parallel, state: outcome.state, accepted: sink.accepted.length }).toEqual({
            n,
            batchSize,
            parallel,
            state: 'DONE',
            accepted: n,
          });
          expect(new Set(sink.accepted).size).toBe(n);
          for (const seed of SEEDS) expect(sink.accepted).not.toContain(seed);
        }
      }
    }
  });
});

describe('runGeneration: duplicates', () => {
  it('rejects exact and near duplicates of seeds, of accepted inputs and within a batch, and reports them', async () => {
    const answers: unknown[][] = [
      [shouted(SEEDS[0]!), nearOf(SEEDS[1]!), fresh(0), `${fresh(0).toUpperCase()}.`, nearOf(fresh(0)), fresh(1)],
      [fresh(1), fresh(2), fresh(3), fresh(4)],
    ];
    const provider = new ScriptedProvider((_, call) => ({ candidates: answers[call], usage: USAGE(call) }));
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 4, batch_size: 6 }), provider);
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toEqual([fresh(0), fresh(1), fresh(2), fresh(3)]);
    expect(sink.batches.map((b) => b.message)).toEqual([
      expect.stringMatching(/^Batch 1: 2 new inputs accepted, 4 rejected as duplicates \(2\/4 done\)/),
      expect.stringMatching(/^Batch 2: 2 new inputs accepted, 1 rejected as duplicates \(4\/4 done\)/),
    ]);
    expect(outcome.message).toMatch(/rejected 5 as similar, 0 as bad and 0 by the filters\./);
  });

  it("uses the mode's near-duplicate threshold", async () => {
    // 5 of 6 words shared (0.83): a near duplicate in BALANCED (0.75), not in CONSERVATIVE (0.85).
    for (const [mode, expected] of [
      ['BALANCED', [fresh(0), fresh(1)]],
      ['CONSERVATIVE', [fresh(0), nearOf(fresh(0))]],
    ] as const) {
      const provider = new ScriptedProvider((_, call) => ({ candidates: [fresh(0), nearOf(fresh(0)), fresh(1)], usage: USAGE(call) }));
      const { sink } = await run(job({ num_inputs_to_generate: 2, batch_size: 3, exploration_mode: mode }), provider);
      expect(sink.accepted).toEqual(expected);
    }
  });

  it('skips empty candidates without counting them as duplicates', async () => {
    const provider = new ScriptedProvider((_, call) => ({ candidates: ['', '  ', '1.', fresh(0), '!!!', fresh(1)], usage: USAGE(call) }));
    const { sink } = await run(job({ num_inputs_to_generate: 2, batch_size: 6 }), provider);
    expect(sink.accepted).toEqual([fresh(0), fresh(1)]);
    expect(sink.batches[0]!.message).not.toMatch(/duplicate/);
  });
});

describe('runGeneration: calls in flight', () => {
  it('never has more than maxParallelBatches calls in flight, nor more than the missing inputs need', async () => {
    const n = 60;
    const batchSize = 5;
    const violations: string[] = [];
    let next = 0;
    const sink = new MemorySink();
    const provider = new ScriptedProvider(async (request, call) => {
      await delay(1 + (call % 3));
      // every third candidate repeats a seed, so batches come back short and more calls are needed
      const candidates = Array.from({ length: request.count }, (_, i) => (i % 3 === 2 ? SEEDS[0] : fresh(next++)));
      return { candidates, usage: USAGE(call) };
    });
    provider.onCall = (request, inFlight) => {
      const remaining = n - sink.accepted.length;
      if (inFlight > 3) violations.push(`${inFlight} calls in flight`);
      if ((inFlight - 1) * batchSize >= remaining) violations.push(`${inFlight} calls in flight for ${remaining} missing inputs`);
      if (request.count !== batchSize) violations.push(`asked for ${request.count}`);
    };
    const { outcome } = await run(job({ num_inputs_to_generate: n, batch_size: batchSize }), provider, { maxParallelBatches: 3, maxBarrenBatches: 50 }, sink);
    expect(violations).toEqual([]);
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toHaveLength(n);
    expect(provider.maxInFlight).toBe(3); // the parallelism is really used
    expect(provider.inFlight).toBe(0);
  });

  it('starts only as many calls as the target needs: three of five for twelve', async () => {
    const provider = freshProvider({ wait: () => delay(5) });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 12, batch_size: 5 }), provider, { maxParallelBatches: 4 });
    expect(outcome.state).toBe('DONE');
    expect(provider.requests).toHaveLength(3);
    expect(provider.maxInFlight).toBe(3);
    expect(sink.accepted).toHaveLength(12);
  });
});

describe('runGeneration: restart', () => {
  const prior = [fresh(100), fresh(101), fresh(102), fresh(103)];

  it('continues to N from the stored inputs and never re-accepts them', async () => {
    let next = 0;
    const provider = new ScriptedProvider(async (request, call) => {
      await tick();
      // the model repeats the earlier run's inputs, exactly and nearly, among new ones
      const candidates =
        call === 0 ? [prior[0], shouted(prior[1]!), nearOf(prior[2]!), fresh(next++), fresh(next++)] : Array.from({ length: request.count }, () => fresh(next++));
      return { candidates, usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 10 }, { accepted: prior }), provider, { maxParallelBatches: 2 });
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toHaveLength(6);
    expect(sink.accepted).toEqual([0, 1, 2, 3, 4, 5].map(fresh));
    expect(sink.messages[0]).toMatch(/^Resumed: 4 of 10/);
    expect(sink.batches[0]!.message).toMatch(/3 rejected as duplicates \(6\/10 done\)/);
  });

  it('shows stored inputs as examples where the mode asks for generated ones', async () => {
    const provider = freshProvider();
    await run(job({ num_inputs_to_generate: 6, num_shots: 4, exploration_mode: 'ADVENTUROUS' }, { accepted: prior }), provider);
    const shots = provider.requests[0]!.context.shots;
    expect(shots.filter((s) => prior.includes(s))).toHaveLength(2);
    expect(shots.filter((s) => SEEDS.includes(s))).toHaveLength(2);
  });

  it('does nothing more when N inputs are already stored', async () => {
    const provider = freshProvider();
    for (const stored of [prior, [...prior, fresh(104), fresh(105)]]) {
      const { outcome, sink } = await run(job({ num_inputs_to_generate: 4 }, { accepted: stored }), provider);
      expect(outcome.state).toBe('DONE');
      expect(sink.batches).toEqual([]);
    }
    expect(provider.requests).toHaveLength(0);
  });
});

describe('runGeneration: a job given no seeds', () => {
  const firstSeeds = [0, 1, 2, 3, 4].map((k) => `quebec${k} romeo${k} sierra${k} tango${k} uniform${k} victor${k}`);

  function seedlessProvider() {
    let next = 0;
    return new ScriptedProvider(async (request, call) => {
      await tick();
      if (request.context.seeds.length === 0) {
        return { candidates: [...firstSeeds, shouted(firstSeeds[0]!)], usage: USAGE(call) };
      }
      // later batches repeat a self-written seed among new inputs
      return { candidates: [firstSeeds[call % 5], ...Array.from({ length: request.count - 1 }, () => fresh(next++))], usage: USAGE(call) };
    });
  }

  it('asks for first seeds, saves them, does not output them, then continues', async () => {
    const provider = seedlessProvider();
    const { outcome, sink } = await run(job({ seeds: [], num_inputs_to_generate: 8, batch_size: 4 }), provider, { maxParallelBatches: 2 });
    expect(outcome.state).toBe('DONE');
    const first = provider.requests[0]!;
    expect(first.count).toBe(FIRST_SEEDS_COUNT);
    expect(first.context.shots).toEqual([]);
    expect(first.prompt).toMatch(/No example inputs exist yet/);
    expect(sink.savedSeeds).toEqual([firstSeeds]);
    for (const request of provider.requests.slice(1)) {
      expect(request.context.seeds).toEqual(firstSeeds);
      expect(request.context.shots.length).toBeGreaterThan(0);
    }
    expect(sink.accepted).toHaveLength(8);
    for (const seed of firstSeeds) expect(sink.accepted).not.toContain(seed);
    expect(sink.messages.join('\n')).toMatch(/No seeds were given/);
    expect(sink.messages.join('\n')).toMatch(/Wrote 5 first example inputs/);
  });

  it('does not ask again when seeds written by an earlier run are given', async () => {
    const provider = seedlessProvider();
    const { outcome, sink } = await run(
      job({ seeds: [], num_inputs_to_generate: 8, batch_size: 4 }, { generatedSeeds: firstSeeds }),
      provider,
    );
    expect(outcome.state).toBe('DONE');
    expect(sink.savedSeeds).toEqual([]);
    for (const request of provider.requests) {
      expect(request.context.seeds).toEqual(firstSeeds);
      expect(request.prompt).not.toMatch(/No example inputs exist yet/);
    }
    expect(sink.accepted).toHaveLength(8);
    for (const seed of firstSeeds) expect(sink.accepted).not.toContain(seed);
    expect(sink.messages.join('\n')).not.toMatch(/No seeds were given/);
  });

  it('retries an unusable first-seeds answer, and gives up after maxFailedCalls', async () => {
    const provider = new ScriptedProvider((_, call) => ({ candidates: "I'm sorry, I can't do that.", usage: USAGE(call) }));
    const { outcome, sink } = await run(job({ seeds: [] }), provider, { maxFailedCalls: 3 });
    expect(outcome.state).toBe('ERROR');
    expect(provider.requests).toHaveLength(3);
    expect(sink.savedSeeds).toEqual([]);
    expect(sink.accepted).toEqual([]);
  });
});

describe('runGeneration: barren batches', () => {
  it('ends ERROR after maxBarrenBatches batches without anything new, keeping the partial data', async () => {
    const provider = new ScriptedProvider((_, call) => ({
      candidates: call === 0 ? [fresh(0), fresh(1), fresh(2)] : [fresh(0), nearOf(fresh(1)), shouted(fresh(2)), SEEDS[0]],
      usage: USAGE(call),
    }));
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 10, batch_size: 4 }), provider, { maxBarrenBatches: 3 });
    expect(outcome.state).toBe('ERROR');
    expect(provider.requests).toHaveLength(1 + 3);
    expect(sink.accepted).toEqual([fresh(0), fresh(1), fresh(2)]);
    expect(outcome.message).toMatch(/3 batches in a row produced no new inputs/);
    expect(outcome.message).toMatch(/Kept 3 of 10 inputs/);
  });

  it('a productive batch resets the count', async () => {
    // barren, barren, productive, barren, barren, productive ... never three in a row
    let next = 0;
    const provider = new ScriptedProvider((_, call) => ({
      candidates: call % 3 === 2 ? [fresh(next++)] : [SEEDS[0]],
      usage: USAGE(call),
    }));
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 4, batch_size: 1 }), provider, { maxBarrenBatches: 3 });
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toHaveLength(4);
  });

  it('also stops with parallel batches in flight', async () => {
    const provider = new ScriptedProvider(async (_, call) => {
      await tick();
      return { candidates: call === 0 ? [fresh(0)] : [SEEDS[1]], usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 50, batch_size: 2 }), provider, {
      maxParallelBatches: 4,
      maxBarrenBatches: 5,
    });
    expect(outcome.state).toBe('ERROR');
    expect(outcome.message).toMatch(/produced no new inputs/);
    expect(sink.accepted).toEqual([fresh(0)]);
    expect(provider.inFlight).toBe(0);
  });
});

describe('runGeneration: failing calls', () => {
  it('retries a RetryableLlmError and ends DONE when the provider recovers', async () => {
    let next = 0;
    const provider = new ScriptedProvider((request, call) => {
      if (call < 3) throw new RetryableLlmError('rate limited (429)');
      return { candidates: Array.from({ length: request.count }, () => fresh(next++)), usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 5 }), provider, { maxFailedCalls: 4 });
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toHaveLength(5);
    const failures = sink.messages.filter((m) => /rate limited \(429\)/.test(m));
    expect(failures).toHaveLength(3);
    for (const m of failures) expect(m).toMatch(/retrying/);
  });

  it('treats any other thrown error as retryable too', async () => {
    let next = 0;
    const provider = new ScriptedProvider((request, call) => {
      if (call === 0) throw new TypeError('fetch failed');
      return { candidates: Array.from({ length: request.count }, () => fresh(next++)), usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 5 }), provider);
    expect(outcome.state).toBe('DONE');
    expect(sink.messages.join('\n')).toMatch(/fetch failed.*retrying/);
  });

  it('ends ERROR after maxFailedCalls failures in a row, saying why', async () => {
    const provider = new ScriptedProvider(() => {
      throw new RetryableLlmError('overloaded (529)');
    });
    const { outcome, sink } = await run(job(), provider, { maxFailedCalls: 4 });
    expect(outcome.state).toBe('ERROR');
    expect(provider.requests).toHaveLength(4);
    expect(outcome.message).toMatch(/4 LLM calls in a row failed/);
    expect(outcome.message).toMatch(/overloaded \(529\)/);
    expect(sink.accepted).toEqual([]);
  });

  it('counts failures in a row only: a success in between resets the count', async () => {
    let next = 0;
    const provider = new ScriptedProvider((_, call) => {
      if (call % 2 === 0) throw new RetryableLlmError('flaky');
      return { candidates: [fresh(next++)], usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 4, batch_size: 1 }), provider, { maxFailedCalls: 2 });
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toHaveLength(4);
  });

  it('an answer arriving after the job gave up does not reset the failure count into a DONE short of N', async () => {
    // Calls 0 and 1 fail at once: the job gives up (maxFailedCalls 2). Call 2 was
    // already in flight and answers afterwards, ignoring the abort, as a response
    // already on the wire does: it must neither be accepted nor end the job DONE.
    let release: () => void = () => undefined;
    const late = new Promise<void>((resolve) => (release = resolve));
    const provider = new ScriptedProvider(async (_, call) => {
      if (call < 2) {
        await tick();
        throw new RetryableLlmError('server error');
      }
      await late;
      return { candidates: [fresh(100), fresh(101), fresh(102)], usage: USAGE(call) };
    });
    provider.onCall = (_, inFlight) => {
      if (inFlight === 3) setTimeout(release, 20);
    };
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 20, batch_size: 5 }), provider, {
      maxParallelBatches: 3,
      maxFailedCalls: 2,
    });
    expect(provider.requests).toHaveLength(3);
    expect(outcome.state).toBe('ERROR');
    expect(outcome.message).toMatch(/2 LLM calls in a row failed/);
    expect(sink.accepted).toEqual([]);
  });

  it('ends ERROR at once on a FatalLlmError, aborting the other calls and keeping what was accepted', async () => {
    const provider = new ScriptedProvider(async (request, call) => {
      if (call === 0) return { candidates: [fresh(0), fresh(1)], usage: USAGE(call) };
      if (call === 1) {
        await tick();
        throw new FatalLlmError('invalid x-api-key');
      }
      return untilAborted(request.signal);
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 40, batch_size: 5 }), provider, {
      maxParallelBatches: 4,
      maxFailedCalls: 100,
    });
    expect(outcome.state).toBe('ERROR');
    expect(outcome.message).toMatch(/invalid x-api-key/);
    expect(outcome.message).toMatch(/Kept 2 of 40/);
    expect(sink.accepted).toEqual([fresh(0), fresh(1)]);
    // no call was started after the fatal one, and every other call was aborted
    const afterFatal = provider.requests.slice(2);
    expect(afterFatal.length).toBeGreaterThan(0);
    for (const request of afterFatal) expect(request.signal?.aborted).toBe(true);
    expect(provider.requests.length).toBeLessThanOrEqual(1 + 4);
    expect(provider.inFlight).toBe(0);
  });

  it('a FatalLlmError with nothing else in flight makes one call only', async () => {
    const provider = new ScriptedProvider(() => {
      throw new FatalLlmError('model not found');
    });
    const { outcome } = await run(job(), provider, { maxFailedCalls: 100 });
    expect(provider.requests).toHaveLength(1);
    expect(outcome).toEqual({ state: 'ERROR', message: expect.stringMatching(/retrying will not help: model not found/) });
  });
});

describe('runGeneration: unusable output', () => {
  it('counts refusals and empty answers as failures, retries them, and never outputs them', async () => {
    let next = 0;
    const answers: unknown[] = ["I'm sorry, but I can't help with that.", '', { inputs: [] }, null];
    const provider = new ScriptedProvider((request, call) => ({
      candidates: call < answers.length ? answers[call] : Array.from({ length: request.count }, () => fresh(next++)),
      usage: USAGE(call),
    }));
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 5 }), provider, { maxFailedCalls: 5 });
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toEqual([0, 1, 2, 3, 4].map(fresh));
    const unusable = sink.messages.filter((m) => /unusable answer/.test(m));
    expect(unusable).toHaveLength(4);
    expect(unusable[0]).toMatch(/refused/);
    for (const m of unusable) expect(m).toMatch(/retrying/);
  });

  it('ends ERROR when every answer is unusable', async () => {
    const provider = new ScriptedProvider((_, call) => ({ candidates: ['', '   '], usage: USAGE(call) }));
    const { outcome } = await run(job(), provider, { maxFailedCalls: 3 });
    expect(outcome.state).toBe('ERROR');
    expect(provider.requests).toHaveLength(3);
    expect(outcome.message).toMatch(/3 LLM calls in a row failed; the last one: the model returned only empty inputs/);
  });
});

describe('runGeneration: cancel', () => {
  it('cancel through the AbortSignal aborts in-flight calls and ends CANCELLED, keeping accepted data', async () => {
    const controller = new AbortController();
    const provider = new ScriptedProvider(async (request, call) => {
      if (call === 0) return { candidates: [0, 1, 2, 3, 4].map(fresh), usage: USAGE(call) };
      if (call === 2) setTimeout(() => controller.abort(), 5);
      return untilAborted(request.signal);
    });
    const { outcome, sink } = await run(job({ num_inputs_to_generate: 20 }), provider, { maxParallelBatches: 2 }, new MemorySink(), controller.signal);
    expect(outcome).toEqual({ state: 'CANCELLED', message: 'Cancelled; kept 5 of 20 inputs.' });
    expect(sink.accepted).toEqual([0, 1, 2, 3, 4].map(fresh));
    const hanging = provider.requests.slice(1);
    expect(hanging.length).toBeGreaterThanOrEqual(2);
    for (const request of hanging) expect(request.signal?.aborted).toBe(true);
    expect(provider.inFlight).toBe(0);
    // an aborted call is not reported as a failure
    expect(sink.messages.join('\n')).not.toMatch(/failed/);
  });

  it('cancel during a retry pause ends the pause at once', async () => {
    const controller = new AbortController();
    const provider = new ScriptedProvider(() => {
      setTimeout(() => controller.abort(), 5);
      throw new RetryableLlmError('rate limited');
    });
    // a pause this long would outlast the test's timeout if the cancel did not cut it short
    const { outcome } = await run(job(), provider, { retryBaseDelayMs: 600_000, retryMaxDelayMs: 600_000, maxFailedCalls: 10 }, new MemorySink(), controller.signal);
    expect(outcome.state).toBe('CANCELLED');
    expect(provider.requests).toHaveLength(1);
  });

  it('a signal aborted before the run starts ends CANCELLED without calling the provider', async () => {
    const controller = new AbortController();
    controller.abort();
    const provider = freshProvider();
    const { outcome, sink } = await run(job(), provider, {}, new MemorySink(), controller.signal);
    expect(outcome.state).toBe('CANCELLED');
    expect(provider.requests).toHaveLength(0);
    expect(sink.accepted).toEqual([]);
  });

  it('cancel answered by recordBatch ends CANCELLED, keeping the batch it came with', async () => {
    const provider = freshProvider();
    const sink = new MemorySink();
    sink.cancelWhen = (s) => s.batches.length >= 2;
    const { outcome } = await run(job({ num_inputs_to_generate: 30 }), provider, {}, sink);
    expect(outcome).toEqual({ state: 'CANCELLED', message: 'Cancelled; kept 10 of 30 inputs.' });
    expect(provider.requests).toHaveLength(2);
    expect(sink.accepted).toEqual(Array.from({ length: 10 }, (_, i) => fresh(i)));
  });

  it('cancel answered by recordBatch aborts the other calls in flight', async () => {
    const provider = new ScriptedProvider(async (request, call) => {
      if (call === 0) {
        await delay(5);
        return { candidates: [fresh(0)], usage: USAGE(call) };
      }
      return untilAborted(request.signal);
    });
    const sink = new MemorySink();
    sink.cancelWhen = () => true;
    const { outcome } = await run(job({ num_inputs_to_generate: 30 }), provider, { maxParallelBatches: 3 }, sink);
    expect(outcome.state).toBe('CANCELLED');
    expect(provider.requests).toHaveLength(3);
    for (const request of provider.requests.slice(1)) expect(request.signal?.aborted).toBe(true);
    expect(sink.accepted).toEqual([fresh(0)]);
  });

  it('an answer that arrives after the cancel is not accepted', async () => {
    const controller = new AbortController();
    const provider = new ScriptedProvider(async (_, call) => {
      // a provider that ignores the signal and answers anyway
      controller.abort();
      await tick();
      return { candidates: [fresh(0), fresh(1)], usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job(), provider, {}, new MemorySink(), controller.signal);
    expect(outcome.state).toBe('CANCELLED');
    expect(sink.accepted).toEqual([]);
    // its tokens were spent all the same
    expect(sink.usages).toEqual([USAGE(0)]);
  });
});

describe('runGeneration: heuristic filters and temperature', () => {
  it('filters meta-text, refusals and far-off lengths before dedup, and counts them', async () => {
    const long = Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ');
    const provider = new ScriptedProvider(async (_, call) => ({
      candidates:
        call === 0
          ? ['Here are 5 new inputs for this application:', "I'm sorry, but I can't help with that.", long, fresh(0), fresh(1)]
          : [fresh(2 + call)],
      usage: USAGE(call),
    }));
    const sink = new MemorySink();
    const { outcome } = await run(job({ num_inputs_to_generate: 4 }), provider, {}, sink);
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).not.toContain(long);
    expect(sink.batches[0]!.counts).toMatchObject({ candidates: 5, filtered: 3, exactDuplicates: 0, nearDuplicates: 0 });
    expect(sink.messages.some((m) => /2 new inputs accepted, 3 filtered out/.test(m))).toBe(true);
  });

  it('says when and why the temperature changes', async () => {
    const provider = new ScriptedProvider(async (_, call) => ({
      candidates: call === 0 ? [SEEDS[0]!, SEEDS[1]!, SEEDS[2]!, fresh(0)] : [fresh(call)],
      usage: USAGE(call),
    }));
    const sink = new MemorySink();
    await run(job({ num_inputs_to_generate: 3 }), provider, {}, sink);
    expect(sink.messages.some((m) => /Temperature 0\.7 -> 0\.75: 3 of 4 were too similar to earlier inputs\./.test(m))).toBe(true);
    expect(provider.requests[1]!.temperature).toBe(0.75);
  });
});

describe('runGeneration: themes', () => {
  /** Answers themes, verdicts and inputs as asked; records every request. */
  function purposeful(verdict: (input: string) => string = () => 'good') {
    let next = 0;
    return new ScriptedProvider(async (request, call) => {
      await tick();
      const purpose = request.context.purpose ?? 'inputs';
      if (purpose === 'themes') return { candidates: ['theme one', 'theme two', 'theme three', 'theme four', 'theme one'], usage: USAGE(call) };
      if (purpose === 'critique') return { candidates: (request.context.toJudge ?? []).map(verdict), usage: USAGE(call) };
      return { candidates: Array.from({ length: request.count }, () => fresh(next++)), usage: USAGE(call) };
    });
  }

  it('derives themes once, saves them, and spreads the batches evenly over them', async () => {
    const provider = purposeful();
    const sink = new MemorySink();
    const saved: string[][] = [];
    sink.saveThemes = async (themes: string[]) => void saved.push(themes);
    const { outcome } = await run(job({ num_inputs_to_generate: 40, batch_size: 5, exploration_mode: 'CONSERVATIVE' }), provider, { themes: true }, sink);
    expect(outcome.state).toBe('DONE');
    expect(provider.requests[0]!.context.purpose).toBe('themes');
    expect(provider.requests[0]!.prompt).toMatch(/Write 4 distinct themes/);
    expect(saved).toEqual([['theme one', 'theme two', 'theme three', 'theme four']]);
    const batches = provider.requests.filter((r) => (r.context.purpose ?? 'inputs') === 'inputs');
    expect(batches).toHaveLength(8);
    const perTheme = new Map<string, number>();
    for (const b of batches) perTheme.set(b.context.theme!, (perTheme.get(b.context.theme!) ?? 0) + 1);
    expect([...perTheme.values()]).toEqual([2, 2, 2, 2]);
    for (const b of batches) expect(b.prompt).toContain(`Theme for this batch: ${b.context.theme}.`);
    expect(sink.messages.some((m) => /^Themes \(4\): theme one; theme two; theme three; theme four\.$/.test(m))).toBe(true);
    expect(sink.messages.some((m) => /^Batch 1 \(theme: theme \w+\): 5 new inputs accepted/.test(m))).toBe(true);
  });

  it('reuses the themes of an earlier run instead of asking again', async () => {
    const provider = purposeful();
    await run(job({ num_inputs_to_generate: 5 }, { themes: ['kept theme'] }), provider, { themes: true });
    expect(provider.requests.some((r) => r.context.purpose === 'themes')).toBe(false);
    expect(provider.requests[0]!.context.theme).toBe('kept theme');
  });

  it('asks for more themes, reaching for edge cases, in the bolder modes', async () => {
    const provider = purposeful();
    await run(job({ num_inputs_to_generate: 5, exploration_mode: 'ADVENTUROUS' }), provider, { themes: true });
    expect(provider.requests[0]!.prompt).toMatch(/Write 16 distinct themes/);
    expect(provider.requests[0]!.prompt).toMatch(/adversarial-but-valid/);
  });

  it('goes on without themes when they cannot be derived', async () => {
    const provider = new ScriptedProvider(async (request, call) => {
      if (request.context.purpose === 'themes') throw new RetryableLlmError('overloaded');
      return { candidates: [fresh(call)], usage: USAGE(call) };
    });
    const sink = new MemorySink();
    const { outcome } = await run(job({ num_inputs_to_generate: 2 }), provider, { themes: true, maxFailedCalls: 5 }, sink);
    expect(outcome.state).toBe('DONE');
    expect(sink.messages).toContain('No themes could be derived; the batches go on without them.');
  });
});

describe('runGeneration: the critic', () => {
  it('rejects what the critic judges bad, counts it, and says why', async () => {
    let next = 0;
    const provider = new ScriptedProvider(async (request, call) => {
      if (request.context.purpose === 'critique') {
        return { candidates: (request.context.toJudge ?? []).map((input, i) => (i === 0 ? 'bad: off task' : 'good')), usage: USAGE(call) };
      }
      return { candidates: Array.from({ length: request.count }, () => fresh(next++)), usage: USAGE(call) };
    });
    const sink = new MemorySink();
    const { outcome } = await run(job({ num_inputs_to_generate: 8, batch_size: 5 }), provider, { critic: true }, sink);
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).not.toContain(fresh(0));
    expect(sink.accepted).not.toContain(fresh(5));
    expect(sink.batches[0]!.counts).toMatchObject({ bad: 1, candidates: 5 });
    expect(sink.batches[0]!.message).toMatch(/4 new inputs accepted, 1 judged bad by the critic \(4\/8 done\)\. Progress: good 4\/8, bad 1, similar 0\. Bad: off task\./);
    // the critique call's usage is recorded with its batch: two calls
    expect(sink.batches[0]!.usage).toEqual({ inputTokens: USAGE(0).inputTokens + USAGE(1).inputTokens, outputTokens: USAGE(0).outputTokens + USAGE(1).outputTokens });
    const critique = provider.requests.find((r) => r.context.purpose === 'critique')!;
    expect(critique.system).toMatch(/You review candidate inputs/);
    expect(critique.prompt).toContain(fresh(1));
  });

  it.each([
    ['answers the wrong number of verdicts', () => ({ candidates: ['good'] })],
    ['answers something that is not a verdict', () => ({ candidates: ['maybe', 'sure', 'ok', 'fine', 'yes'] })],
    ['fails', () => {
      throw new RetryableLlmError('critic overloaded');
    }],
  ])('keeps a batch unjudged, losing nothing, when the critic %s', async (_name, critic) => {
    let next = 0;
    const provider = new ScriptedProvider(async (request, call) => {
      if (request.context.purpose === 'critique') return { ...(critic as () => { candidates: unknown })(), usage: USAGE(call) };
      return { candidates: Array.from({ length: request.count }, () => fresh(next++)), usage: USAGE(call) };
    });
    const sink = new MemorySink();
    const { outcome } = await run(job({ num_inputs_to_generate: 5, batch_size: 5 }), provider, { critic: true }, sink);
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toEqual([0, 1, 2, 3, 4].map(fresh));
    expect(sink.batches[0]!.message).toMatch(/The critic could not judge it \(.+\); its inputs were kept unjudged\./);
  });

  it('is not called when off, and the job says whether it runs', async () => {
    const provider = freshProvider();
    const sink = new MemorySink();
    await run(job({ num_inputs_to_generate: 5 }), provider, { critic: false }, sink);
    expect(provider.requests.every((r) => r.context.purpose !== 'critique')).toBe(true);
    expect(sink.messages[0]).toMatch(/critic off\.$/);
    const on = new MemorySink();
    await run(job({ num_inputs_to_generate: 1 }), freshProvider(), { critic: true }, on);
    expect(on.messages[0]).toMatch(/critic on: each batch is judged/);
  });

  it('runs one batch at a time when run_parallel_batches is false', async () => {
    const provider = freshProvider({ wait: () => delay(5) });
    await run(job({ num_inputs_to_generate: 20, batch_size: 2, run_parallel_batches: false }), provider, { maxParallelBatches: 4 });
    expect(provider.maxInFlight).toBe(1);
  });
});

describe('runGeneration: interrupted by a shutdown', () => {
  it('launches nothing new, lets the calls in flight finish and count, and ends INTERRUPTED', async () => {
    const interrupt = new AbortController();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const provider = freshProvider({ wait: () => gate });
    const sink = new MemorySink();
    const running = runGeneration(job({ num_inputs_to_generate: 50, batch_size: 5 }), provider, sink, { ...OPTIONS, maxParallelBatches: 3 }, new AbortController().signal, interrupt.signal);
    await tick();
    expect(provider.requests).toHaveLength(3);
    interrupt.abort();
    release();
    const outcome = await running;
    expect(outcome.state).toBe('INTERRUPTED');
    expect(outcome.message).toMatch(/15 of 50 inputs stored; another worker resumes/);
    expect(provider.requests).toHaveLength(3); // none launched after the interrupt
    expect(sink.accepted).toHaveLength(15); // the three in flight were paid for and kept
  });

  it('ends DONE, not INTERRUPTED, when the calls in flight complete the job', async () => {
    const interrupt = new AbortController();
    const provider = freshProvider({ wait: async () => interrupt.abort() });
    const outcome = await runGeneration(job({ num_inputs_to_generate: 5 }), provider, new MemorySink(), OPTIONS, new AbortController().signal, interrupt.signal);
    expect(outcome.state).toBe('DONE');
  });

  it('interrupted before it begins, it calls nothing', async () => {
    const interrupt = new AbortController();
    interrupt.abort();
    const provider = freshProvider();
    const outcome = await runGeneration(job(), provider, new MemorySink(), OPTIONS, new AbortController().signal, interrupt.signal);
    expect(outcome.state).toBe('INTERRUPTED');
    expect(provider.requests).toHaveLength(0);
  });
});

describe('runGeneration: messages, prompts and usage', () => {
  it('a provider that is not an LLM makes the job say so', async () => {
    const provider = new ScriptedProvider((request, call) => ({ candidates: [fresh(call)], usage: USAGE(call) }), 'offline generator', false);
    const { sink } = await run(job({ num_inputs_to_generate: 2, batch_size: 1 }), provider);
    expect(sink.messages[0]).toMatch(/with offline generator/);
    expect(sink.messages.some((m) => /without an LLM/.test(m))).toBe(true);
  });

  it('an LLM provider is named and not called a non-LLM', async () => {
    const provider = freshProvider();
    const { sink } = await run(job({ num_inputs_to_generate: 2 }), provider);
    expect(sink.messages[0]).toMatch(/^Started: generating 2 inputs in BALANCED mode.*with scripted test model/);
    expect(sink.messages.some((m) => /without an LLM/.test(m))).toBe(false);
  });

  it('the usage of every call reaches recordBatch exactly once', async () => {
    // A seedless job (one call for seeds), a refusal, an error, and parallel batches of which some
    // answer after the target is reached.
    const firstSeeds = [0, 1, 2, 3, 4].map((k) => `whiskey${k} xray${k} yankee${k} zebra${k} amber${k} beryl${k}`);
    let next = 0;
    const provider = new ScriptedProvider(async (request, call) => {
      await tick();
      if (call === 0) return { candidates: firstSeeds, usage: USAGE(call) };
      if (call === 1) return { candidates: 'I cannot help with this.', usage: USAGE(call) };
      if (call === 2) throw new RetryableLlmError('timeout');
      return { candidates: Array.from({ length: request.count + 2 }, () => fresh(next++)), usage: USAGE(call) };
    });
    const { outcome, sink } = await run(job({ seeds: [], num_inputs_to_generate: 9, batch_size: 3 }), provider, { maxParallelBatches: 3 });
    expect(outcome.state).toBe('DONE');
    expect(provider.usages.length).toBe(provider.requests.length - 1); // all but the call that threw
    expect([...sink.usages].sort((a, b) => a.inputTokens - b.inputTokens)).toEqual(
      [...provider.usages].sort((a, b) => a.inputTokens - b.inputTokens),
    );
    expect(sum(sink.usages)).toEqual(sum(provider.usages));
  });

  it('every prompt carries the job: system prompt, shots, count and context', async () => {
    const description = 'A recipe assistant for people who cook with what is left in the fridge.';
    const provider = freshProvider();
    await run(job({ application_description: description, num_inputs_to_generate: 12, batch_size: 4, num_shots: 3, exploration_mode: 'CREATIVE' }), provider, {
      maxParallelBatches: 2,
    });
    const batchNumbers = new Set<number>();
    for (const request of provider.requests) {
      expect(request.system).toContain(description);
      expect(request.system).toContain(MODE_SETTINGS.CREATIVE.directive);
      expect(request.count).toBe(4);
      expect(request.context.applicationDescription).toBe(description);
      expect(request.context.explorationMode).toBe('CREATIVE');
      expect(request.context.seeds).toEqual(SEEDS);
      expect(request.context.shots).toHaveLength(3);
      expect(new Set(request.context.shots).size).toBe(3);
      for (const shot of request.context.shots) expect(request.prompt).toContain(shot);
      expect(request.prompt).toContain('Write 4 new inputs');
      expect(request.signal).toBeInstanceOf(AbortSignal);
      batchNumbers.add(request.context.batchNumber);
    }
    expect(batchNumbers.size).toBe(provider.requests.length);
  });

  it('temperature starts at the low end of the band and warms within it when batches repeat themselves', async () => {
    let next = 0;
    const provider = new ScriptedProvider((_, call) => ({
      // one new input and three repeats per batch
      candidates: [fresh(next++), SEEDS[0], SEEDS[1], SEEDS[2]],
      usage: USAGE(call),
    }));
    await run(job({ num_inputs_to_generate: 8, batch_size: 4, exploration_mode: 'BALANCED' }), provider);
    const temperatures = provider.requests.map((r) => r.temperature);
    const { min, max } = MODE_SETTINGS.BALANCED.temperature;
    expect(temperatures[0]).toBe(min);
    for (let i = 1; i < temperatures.length; i++) expect(temperatures[i]!).toBeGreaterThanOrEqual(temperatures[i - 1]!);
    for (const t of temperatures) {
      expect(t).toBeGreaterThanOrEqual(min);
      expect(t).toBeLessThanOrEqual(max);
    }
    expect(temperatures[temperatures.length - 1]).toBe(max);
  });

  it('is deterministic for a given seededRandom and a deterministic provider', async () => {
    const once = async () => {
      const provider = freshProvider();
      const { sink } = await run(job({ num_inputs_to_generate: 20, batch_size: 3, num_shots: 4, exploration_mode: 'ADVENTUROUS' }), provider);
      return { prompts: provider.requests.map((r) => r.prompt), accepted: sink.accepted };
    };
    const a = await once();
    const b = await once();
    expect(b).toEqual(a);
    expect(new Set(a.prompts).size).toBeGreaterThan(1);
  });
});

describe('runGeneration: provenance', () => {
  it('records where each accepted input came from, and why each other candidate was not kept', async () => {
    // Batch 1 answers: a new input, an exact copy of seed 2, a near copy of seed 0, a refusal, an off-task input.
    // Batch 2 answers: a near copy of batch 1's input, and new ones.
    let batch = 0;
    const provider = new ScriptedProvider(async (request, call) => {
      if (request.context.purpose === 'critique') {
        return { candidates: (request.context.toJudge ?? []).map((input) => (input.startsWith('offtask') ? 'bad: not about the application' : 'good')), usage: USAGE(call) };
      }
      batch++;
      if (batch === 1) {
        return { candidates: [fresh(0), shouted(SEEDS[2]!), nearOf(SEEDS[0]!), "I'm sorry, but I can't help with that.", 'offtask one two three four five'], usage: USAGE(call) };
      }
      return { candidates: [nearOf(fresh(0)), fresh(1), fresh(2)], usage: USAGE(call) };
    });
    const sink = new MemorySink();
    const clock = Date.parse('2026-12-01T12:00:00Z');
    const { outcome } = await run(job({ num_inputs_to_generate: 3, batch_size: 5, num_shots: 2 }), provider, { critic: true, now: () => clock }, sink);
    expect(outcome.state).toBe('DONE');
    expect(sink.accepted).toEqual([fresh(0), fresh(1), fresh(2)]);

    const [first, second] = sink.batches.filter((b) => b.provenance !== undefined && b.accepted.length > 0);
    expect(first!.provenance).toHaveLength(1);
    const p0 = first!.provenance![0]!;
    expect(p0).toMatchObject({ batch: 1, theme: null, model: 'scripted test model', critic: { verdict: 'good', reason: null }, nearest: null, accepted_at: '2026-12-01T12:00:00.000Z' });
    expect(p0.temperature).toBe(MODE_SETTINGS.BALANCED.temperature.min);
    // The examples its prompt showed: seeds by index, as the prompt shows them.
    const prompt = provider.requests.find((r) => r.context.purpose === undefined || r.context.purpose === 'inputs')!;
    expect(p0.examples.map((e) => (e.source === 'seed' ? SEEDS[e.index] : null))).toEqual(prompt.context.shots);

    const reasons = first!.rejected!.map((r) => [r.reason, r.duplicate_of, r.filter]);
    expect(reasons).toEqual([
      ['exact_duplicate', { source: 'seed', index: 2, similarity: 1 }, null],
      ['near_duplicate', { source: 'seed', index: 0, similarity: expect.any(Number) }, null],
      ['filtered', null, 'refusal'],
      ['bad', null, null],
    ]);
    expect(first!.rejected![3]!.detail).toBe('not about the application');
    expect(first!.rejected![1]!.duplicate_of!.similarity).toBeGreaterThanOrEqual(MODE_SETTINGS.BALANCED.nearDuplicateThreshold);

    // Batch 2: the near copy of input 0 is rejected as such; the new ones may show earlier inputs as examples.
    expect(second!.rejected![0]).toMatchObject({ reason: 'near_duplicate', duplicate_of: { source: 'input', index: 0 }, batch: 2 });
    expect(second!.provenance!.map((p) => p.batch)).toEqual([2, 2]);
  });

  it('names the nearest seed or input of an accepted one when it is close but not a duplicate', async () => {
    // Seed 1 with its last word changed and one more: ROUGE-L 10/13 = 0.77, under CONSERVATIVE's 0.85.
    const similarToSeed = `${nearOf(SEEDS[1]!)} uniform`;
    const provider = new ScriptedProvider(async (_request, call) => ({ candidates: [similarToSeed], usage: USAGE(call) }));
    const sink = new MemorySink();
    await run(job({ num_inputs_to_generate: 1, batch_size: 1, exploration_mode: 'CONSERVATIVE' }), provider, {}, sink);
    const provenance = sink.batches.find((b) => b.accepted.length === 1)!.provenance![0]!;
    expect(provenance.nearest).toEqual({ source: 'seed', index: 1, similarity: 0.7692 });
    expect(provenance.critic).toEqual({ verdict: 'unjudged', reason: 'the critic is off' });
  });
});
