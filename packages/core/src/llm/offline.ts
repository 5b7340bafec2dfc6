import { MODE_SETTINGS } from '../engine/modes';
import { tokenize } from '../engine/normalize';
import { seededRandom, seedFromString, type Random } from '../engine/random';
import { rougeLF1 } from '../engine/similarity';
import type { BatchContext, ExplorationMode, GenerateBatchRequest, GenerateBatchResult, LlmProvider } from './provider';

/**
 * The offline generator: the embedded default provider, for when no LLM is
 * configured. It is not an LLM and does not pretend to be one. It writes new
 * inputs by editing the examples it is shown:
 *
 * - typed substitution: a detail of a known kind ("turtle", "last quarter",
 *   "Python") is swapped for another of the same kind, so the sentence stays
 *   grammatical (words the seeds and the description use are preferred);
 * - recombination: the head of one example joined to the tail of another at
 *   a matching pivot word ("... about | a dragon who ...");
 * - framing: a user's context before the request, constraints after it, and,
 *   in the bolder modes, unusual formats, edge cases, demanding or terse users;
 * - templates: whole inputs for a few kinds of application (stories, data
 *   questions, code), which also write a seedless job's first seeds.
 *
 * Every candidate is checked against its example, the other examples and its
 * batch-mates with the engine's own similarity (ROUGE-L) and remade when it
 * would be a near duplicate, so most of what it returns is accepted.
 */

/** Kinds of application with their own templates and details; 'general' is the fallback. */
type KitName = 'story' | 'data' | 'code' | 'general';

export interface OfflineGeneratorOptions {
  /** Fixes the generator's randomness (tests); by default every process differs. */
  seed?: number;
}

export class OfflineGenerator implements LlmProvider {
  readonly name = 'offline generator';
  readonly isLlm = false;
  private readonly salt: number;
  /** Counts calls, so two calls with the same context still differ. */
  private calls = 0;

  constructor(options: OfflineGeneratorOptions = {}) {
    this.salt = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  }

  async generateBatch(request: GenerateBatchRequest): Promise<GenerateBatchResult> {
    throwIfAborted(request.signal);
    // Yield once, so a job's batches never starve the event loop (cancel messages, shutdown).
    await new Promise<void>((resolve) => setImmediate(resolve));
    throwIfAborted(request.signal);

    const { context } = request;
    const random = seededRandom(
      seedFromString(
        [this.salt, this.calls++, context.batchNumber, context.explorationMode, request.temperature, ...context.shots].join('\u0001'),
      ),
    );
    if (context.purpose === 'themes') return { candidates: offlineThemes(context, request.count, random), usage: NO_TOKENS };
    if (context.purpose === 'critique') return { candidates: offlineVerdicts(context), usage: NO_TOKENS };
    const writer = new BatchWriter(context, request.temperature, random);
    const candidates: string[] = [];
    for (let i = 0; i < request.count; i++) candidates.push(writer.next());
    return { candidates, usage: NO_TOKENS };
  }
}

const NO_TOKENS = { inputTokens: 0, outputTokens: 0 };

// ---------------------------------------------------------------------------
// Themes and a critic, without an LLM: the same flow as with one, made of
// the description's own topics and a few word-overlap checks.

/** User situations and input formats a theme can pair with a topic; the bolder modes reach further. */
const THEME_ANGLES = [
  'a first-time user asking about',
  'a quick, practical question about',
  'a detailed request with constraints about',
  'a request for a specific audience about',
  'a comparison of two options in',
  'a step-by-step request about',
  'a follow-up to an earlier answer about',
  'a request in a strict format about',
];
const EDGE_ANGLES = [
  'an ambiguous, underspecified request about',
  'a terse, typo-ridden message about',
  'a demanding user with many constraints about',
  'an unusual edge case in',
  'a tricky but valid request testing the limits of',
  'a very long request with background about',
];

function offlineThemes(context: BatchContext, count: number, random: Random): string[] {
  const topics = topicsOf(context.applicationDescription);
  if (topics.length === 0) topics.push('this application');
  const bold = context.explorationMode === 'CREATIVE' || context.explorationMode === 'ADVENTUROUS';
  const angles = bold ? [...THEME_ANGLES, ...EDGE_ANGLES] : THEME_ANGLES;
  const themes = new Set<string>();
  for (let attempt = 0; themes.size < count && attempt < count * 10; attempt++) {
    themes.add(`${pick(angles, random)} ${pick(topics, random)}`);
  }
  return [...themes];
}

/**
 * A word-overlap critic: an input that shares no content word with the
 * description, the seeds or the examples is judged off task. It is crude,
 * and says so in its reason.
 */
function offlineVerdicts(context: BatchContext): string[] {
  const vocabulary = new Set(
    [context.applicationDescription, ...context.seeds, ...context.shots].flatMap((text) => tokenize(text)).filter((w) => w.length > 3),
  );
  return (context.toJudge ?? []).map((input) =>
    tokenize(input).some((word) => vocabulary.has(word)) ? 'good' : 'bad: shares no content word with the application or its examples (offline check)',
  );
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted !== true) return;
  const error = new Error('The offline generation was aborted.');
  error.name = 'AbortError';
  throw error;
}

// ---------------------------------------------------------------------------
// How each mode edits: more, and bolder, edits as the mode rises.

interface Style {
  /** Typed substitutions in the request itself: [fewest, most]. */
  swaps: [number, number];
  /** Chance to splice the example with another one. */
  recombine: number;
  /** Chance to write a fresh templated input instead of editing an example. */
  template: number;
  /** Chance of a short constraint inside the request (", in under 100 words"). */
  inline: number;
  /** Constraint sentences, usually after the request: [fewest, most]. */
  constraints: [number, number];
  /** Chance of a sentence of user context before the request. */
  persona: number;
  /** Chance of an unusual format or an edge case. */
  twist: number;
  /** Chance of a demanding user. */
  demanding: number;
  /** Chance of a very long request (more context, more constraints, a second request). */
  long: number;
  /** Chance of a very short, terse request, and of a casual one with typos. */
  terse: number;
  casual: number;
  /** Chance that a constraint comes before the request instead of after it. */
  constraintFirst: number;
}

const STYLES: Record<ExplorationMode, Style> = {
  CONSERVATIVE: {
    swaps: [1, 2], recombine: 0, template: 0, inline: 0.25, constraints: [0, 0],
    persona: 0, twist: 0, demanding: 0, long: 0, terse: 0, casual: 0, constraintFirst: 0,
  },
  BALANCED: {
    swaps: [1, 3], recombine: 0.3, template: 0.1, inline: 0.25, constraints: [0, 1],
    persona: 0.25, twist: 0, demanding: 0, long: 0, terse: 0, casual: 0, constraintFirst: 0.05,
  },
  CREATIVE: {
    swaps: [2, 5], recombine: 0.5, template: 0.25, inline: 0.3, constraints: [0, 2],
    persona: 0.35, twist: 0.2, demanding: 0.05, long: 0.05, terse: 0.05, casual: 0, constraintFirst: 0.15,
  },
  ADVENTUROUS: {
    swaps: [3, 6], recombine: 0.6, template: 0.3, inline: 0.2, constraints: [0, 1],
    persona: 0.3, twist: 0.5, demanding: 0.25, long: 0.1, terse: 0.3, casual: 0.15, constraintFirst: 0.3,
  },
};

const NEXT_MODE: Record<ExplorationMode, ExplorationMode> = {
  CONSERVATIVE: 'BALANCED',
  BALANCED: 'CREATIVE',
  CREATIVE: 'ADVENTUROUS',
  ADVENTUROUS: 'ADVENTUROUS',
};

/** `from` moved a share `t` (0..1) of the way to `to`. */
function blendStyles(from: Style, to: Style, t: number): Style {
  const mix = (a: number, b: number) => a + (b - a) * t;
  const mixRange = (a: [number, number], b: [number, number]): [number, number] => [Math.round(mix(a[0], b[0])), Math.round(mix(a[1], b[1]))];
  return {
    swaps: mixRange(from.swaps, to.swaps),
    recombine: mix(from.recombine, to.recombine),
    template: mix(from.template, to.template),
    inline: mix(from.inline, to.inline),
    constraints: mixRange(from.constraints, to.constraints),
    persona: mix(from.persona, to.persona),
    twist: mix(from.twist, to.twist),
    demanding: mix(from.demanding, to.demanding),
    long: mix(from.long, to.long),
    terse: mix(from.terse, to.terse),
    casual: mix(from.casual, to.casual),
    constraintFirst: mix(from.constraintFirst, to.constraintFirst),
  };
}

/** Attempts per candidate before it is returned as it is (the engine then judges it). */
const MAX_ATTEMPTS = 8;
/** Candidates aim this far below the near-duplicate threshold, to leave room for other accepted inputs. */
const SIMILARITY_MARGIN = 0.03;

// ---------------------------------------------------------------------------
// One batch.

class BatchWriter {
  private readonly style: Style;
  private readonly kit: Kit;
  private readonly limit: number;
  /**
   * How far edits reach beyond the mode's usual amount: 0 at first, rising as
   * the engine warms the temperature within the mode's band (it does so when
   * batches come back as duplicates) and, slowly, with the batch number (the
   * more inputs a job already holds, the further a new one has to go).
   */
  private readonly reach: number;
  /** The examples to edit, with their requests freed from earlier framing; well-formed ones first. */
  private readonly examples: Example[];
  /** Words of known kinds the job itself uses, preferred as substitutes. */
  private readonly domainWords: Map<number, string[]>;
  private readonly topics: string[];
  private readonly tokenIds = new Map<string, number>();
  /** What a candidate must not resemble: the examples and the batch so far. */
  private readonly taken: Int32Array[] = [];

  constructor(
    context: BatchContext,
    temperature: number,
    private readonly random: Random,
  ) {
    const mode = MODE_SETTINGS[context.explorationMode];
    this.limit = mode.nearDuplicateThreshold - SIMILARITY_MARGIN;
    const band = mode.temperature.max - mode.temperature.min;
    const heat = band > 0 ? clamp01((temperature - mode.temperature.min) / band) : 0;
    this.reach = heat + Math.log2(1 + Math.max(0, context.batchNumber) / 200);
    // When the space near the examples runs out, edit more like the next mode up.
    this.style = blendStyles(STYLES[context.explorationMode], STYLES[NEXT_MODE[context.explorationMode]], Math.min(1, this.reach / 2));

    const shots = context.shots.length > 0 ? context.shots : context.seeds;
    // From the job's own words only: generated shots carry framing ("Put it all in a table.") that would mislead it.
    this.kit = KITS[detectKit(context.applicationDescription, context.seeds)];
    const examples = shots.map((text) => toExample(text, this.kit));
    // Terse or casual inputs make poor bases: use them only when there is nothing else.
    const wellFormed = examples.filter((e) => e.wellFormed);
    this.examples = wellFormed.length > 0 ? wellFormed : examples;
    this.domainWords = collectDomainWords([context.applicationDescription, ...context.seeds, ...shots], this.kit.name);
    this.topics = topicsOf(context.applicationDescription);
    for (const shot of shots) this.taken.push(this.ids(shot));
  }

  /** One candidate that is neither a copy nor a near copy of what it knows. */
  next(): string {
    let best: { text: string; tokens: Int32Array; similarity: number } = { text: '', tokens: new Int32Array(0), similarity: Infinity };
    for (let attempt = 0; attempt < MAX_ATTEMPTS && best.similarity >= this.limit; attempt++) {
      const text = this.examples.length === 0 ? this.firstSeed(attempt) : this.newInput(attempt);
      const tokens = this.ids(text);
      const similarity = this.closest(tokens);
      if (similarity < best.similarity) best = { text, tokens, similarity };
    }
    this.taken.push(best.tokens);
    return best.text;
  }

  /** A first seed for a job given none: a template filled from the description. */
  private firstSeed(attempt: number): string {
    const text = this.fillTemplate(pick(this.kit.templates, this.random));
    // Later attempts add a constraint, when plain templates keep colliding.
    return attempt > 2 ? tidy(withInline(text, pick(this.kit.inline, this.random))) : tidy(text);
  }

  /** A new input edited from the examples; `attempt` raises the amount of editing. */
  private newInput(attempt: number): string {
    const s = this.style;
    const r = this.random;
    const boost = attempt / 2 + (this.reach * r()) / 2;
    const chance = (p: number) => p > 0 && r() < Math.min(1, p * (1 + boost * 0.5));

    let request: string;
    if (this.kit.name !== 'general' && chance(s.template)) {
      request = this.fillTemplate(pick(this.kit.templates, r));
    } else {
      request = pick(this.examples, r).request;
      if (chance(s.recombine)) request = this.recombine(request);
      const swaps = randomInt(s.swaps[0], s.swaps[1], r) + Math.floor(boost);
      request = this.substitute(request, swaps);
    }

    // Very short and casual requests are edge cases on their own: no framing.
    if (chance(s.terse)) return terse(request, r);

    const before: string[] = [];
    const after: string[] = [];
    const long = chance(s.long);
    const personas = long ? 2 : chance(s.persona) ? 1 : 0;
    before.push(...sampleDistinct(this.kit.personas, personas, r));
    if ((attempt > 1 && s.inline > 0) || chance(s.inline)) request = withInline(request, pick(this.kit.inline, r));
    let constraints = randomInt(s.constraints[0], s.constraints[1], r) + (long ? 2 : 0);
    // An example with few details to swap can only change by what is added to it.
    if (attempt > 3) constraints += 1;
    for (const constraint of sampleDistinct(this.kit.constraints, constraints, r)) {
      (chance(s.constraintFirst) ? before : after).push(constraint);
    }
    if (chance(s.twist)) after.push(pick(r() < 0.5 ? this.kit.twists : GENERIC.twists, r));
    if (chance(s.demanding)) (r() < 0.5 ? before : after).push(pick(GENERIC.demanding, r));
    if (long) {
      // A second request in the same message; only a one-sentence one reads well after "Also,".
      const second = this.substitute(pick(this.examples, r).request, 2);
      if (!/[.?!]\s+\S/.test(second)) after.push(`Also, ${lowerFirst(second)}`);
    }

    const text = tidy([...before, request, ...after].join(' '));
    return chance(s.casual) ? casual(text, r) : text;
  }

  private recombine(request: string): string {
    const other = pick(this.examples, this.random).request;
    if (other === request) return request;
    const [head, tail] = this.random() < 0.5 ? [request, other] : [other, request];
    return splice(head, tail, this.random) ?? request;
  }

  /** Swaps up to `count` details for others of the same kind. */
  private substitute(text: string, count: number): string {
    const slots = findSlots(text, this.kit.name);
    if (slots.length === 0 || count <= 0) return text;
    const chosen = sampleDistinct(slots, count, this.random).sort((a, b) => b.start - a.start);
    let out = text;
    // Never the same detail twice in one input ("a fox and a fox").
    const used = new Set(slots.map((slot) => baseForm(slot.member).toLowerCase()));
    for (const slot of chosen) {
      const replacement = this.replacementFor(slot, used);
      if (replacement === null) continue;
      used.add(baseForm(replacement).toLowerCase());
      const original = out.slice(slot.start, slot.end);
      const inflected = slot.kind === NUMBER_CLASS ? replacement : inflect(replacement, slot.plural);
      // A capital that came from the sentence position carries over; one that belongs to the word ("JSON object") does not.
      const sentenceCapital = /^\p{Lu}/u.test(original) && !/^\p{Lu}/u.test(slot.member);
      out = out.slice(0, slot.start) + (sentenceCapital ? upperFirst(inflected) : inflected) + out.slice(slot.end);
    }
    return out;
  }

  private replacementFor(slot: Slot, used: Set<string>): string | null {
    if (slot.kind === NUMBER_CLASS) return otherNumber(slot.member, this.random);
    const members = WORD_CLASSES[slot.kind]!.members;
    const local = this.domainWords.get(slot.kind)?.filter((m) => !used.has(baseForm(m).toLowerCase()));
    // A quarter of the time, a word this job already uses: details move between seeds.
    const pool = local !== undefined && local.length > 0 && this.random() < 0.25 ? local : members;
    for (let tries = 0; tries < 6; tries++) {
      const candidate = pick(pool, this.random);
      if (!used.has(baseForm(candidate).toLowerCase())) return candidate;
    }
    return null;
  }

  private fillTemplate(template: string): string {
    const used = new Set<string>();
    const filled = template.replace(/\{(\w+)(?::(s))?\}/g, (_match, slotName: string, plural?: string) => {
      if (slotName === 'n') return pick(['3', '5', '10', '20'], this.random);
      if (slotName === 'age') return String(randomInt(3, 9, this.random));
      if (slotName === 'topic') return this.topics.length > 0 ? pick(this.topics, this.random) : 'this';
      const kind = CLASS_BY_NAME.get(slotName);
      if (kind === undefined) throw new Error(`offline generator: unknown template slot {${slotName}}`);
      for (let tries = 0; ; tries++) {
        const member = pick(WORD_CLASSES[kind]!.members, this.random);
        if (!used.has(member) || tries > 5) {
          used.add(member);
          return inflect(member, plural === 's');
        }
      }
    });
    return upperFirst(filled);
  }

  /** The highest ROUGE-L F1 of `tokens` with the examples and this batch so far. */
  private closest(tokens: Int32Array): number {
    let highest = 0;
    for (const other of this.taken) highest = Math.max(highest, rougeLF1(tokens, other));
    return highest;
  }

  private ids(text: string): Int32Array {
    const words = tokenize(text);
    const out = new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      let id = this.tokenIds.get(word);
      if (id === undefined) {
        id = this.tokenIds.size;
        this.tokenIds.set(word, id);
      }
      out[i] = id;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------
// Examples: a shot may be an input this generator framed earlier; edit its request only.

interface Example {
  request: string;
  /** Terse or casual inputs (no capital letter anywhere) make poor bases. */
  wellFormed: boolean;
}

function toExample(text: string, kit: Kit): Example {
  return { request: stripFraming(text, kit), wellFormed: /\p{Lu}/u.test(text) };
}

/** Removes the sentences and inline constraints this generator adds, so framing never piles up. */
function stripFraming(text: string, kit: Kit): string {
  const sentences = text.split(/(?<=[.!?])\s+/);
  const kept = sentences.filter((sentence) => !FRAMING_SENTENCES.has(sentence) && !sentence.startsWith('Also, '));
  let request = (kept.length > 0 ? kept : sentences).join(' ');
  for (const inline of kit.inline) {
    const at = request.lastIndexOf(inline);
    if (at > 0 && /^[.?!]?$/.test(request.slice(at + inline.length))) {
      request = request.slice(0, at) + request.slice(at + inline.length);
      break;
    }
  }
  return request;
}

// ---------------------------------------------------------------------------
// Typed details: words and phrases of one kind that can stand in for each other.

interface WordClass {
  name: string;
  /** Display forms; "mouse|mice" gives an irregular plural. */
  members: string[];
  /** Applications it is safe in (all when absent): keeps "revenue" out of bedtime stories. */
  kits?: KitName[];
  /** Nouns match and are replaced in the plural too. */
  nouns?: boolean;
  /** Only matched right after one of these, which stays: "learns to" + share. */
  after?: string[];
  /** Only matched as the first words of a request. */
  atStart?: boolean;
  /** Only matched when capitalised (names of months, cities). */
  proper?: boolean;
}

const list = (s: string): string[] =>
  s
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');

const STORY: KitName[] = ['story'];
const DATA: KitName[] = ['data'];
const CODE: KitName[] = ['code'];

const WORD_CLASSES: WordClass[] = [
  // Stories.
  { name: 'opener', kits: STORY, atStart: true, members: list('Write, Tell me, Write me, Make up, Create, Compose, Please write, Give me, I need, I would love') },
  {
    name: 'form', kits: STORY, nouns: true,
    members: list('story|stories, bedtime story|bedtime stories, tale, fable, poem, fairy tale, short story|short stories, rhyming story|rhyming stories, adventure story|adventure stories, funny story|funny stories, lullaby|lullabies'),
  },
  {
    name: 'creature', kits: STORY, nouns: true,
    members: list(
      'turtle, dragon, fox|foxes, rabbit, bear, owl, mouse|mice, elephant, penguin, lion, squirrel, hedgehog, frog, kitten, puppy|puppies, ' +
        'giraffe, octopus|octopuses, duck, tiger, whale, snail, badger, raccoon, koala, panda, otter, bee, beaver, unicorn, dinosaur, ' +
        'monkey, hippo, caterpillar, ladybug, crab, zebra, goat, piglet, robot, wizard, knight, princess|princesses, pirate, astronaut, ' +
        'mermaid, troll, fairy|fairies, ghost, snowman|snowmen, scarecrow, girl, boy, cloud, firefly|fireflies',
    ),
  },
  {
    name: 'trait', kits: STORY,
    members: list(
      'brave, shy, curious, grumpy, clever, lonely, kind, stubborn, clumsy, cheerful, gentle, greedy, proud, timid, playful, lazy, bossy, ' +
        'forgetful, impatient, honest, generous, silly, quiet, noisy, sleepy, nervous, messy, jealous, fearless, friendly, selfish, wise, ' +
        'anxious, careful, hungry, restless, polite, daydreaming, adventurous, picky',
    ),
  },
  { name: 'size', kits: STORY, members: list('little, tiny, big, small, young, baby, enormous') },
  {
    name: 'lesson', kits: STORY, after: list('learns to, learn to, learned to, learning to'),
    members: list(
      'share, be kind, tell the truth, say sorry, listen, be patient, wait their turn, ask for help, try again, make new friends, be brave, ' +
        'forgive, help others, be grateful, work together, tidy up, be gentle, include everyone, keep a promise, take turns, lose gracefully, ' +
        'calm down, speak up, be careful, trust others, accept help, stop and think, be themselves, face their fears, say thank you',
    ),
  },
  {
    name: 'fear', kits: STORY, after: list('afraid of, scared of, frightened of, terrified of'),
    members: list(
      'the dark, thunder, water, heights, the ocean, spiders, being alone, loud noises, new places, the vacuum cleaner, the dentist, ' +
        'making mistakes, the first day of school, big dogs, the wind, shadows, flying, swimming, trying new food, storms, ' +
        'monsters under the bed, getting lost, bath time, haircuts, fireworks, the forest at night',
    ),
  },
  {
    name: 'place', kits: STORY, nouns: true,
    members: list(
      // Only places that read well after "in a".
      'forest, castle, village, jungle, desert, garden, pond, school, library|libraries, playground, meadow, cave, zoo, bakery|bakeries, ' +
        'swamp, lighthouse, treehouse, museum, train station, space station, market, toy shop, hospital, tent',
    ),
  },
  {
    name: 'object', kits: STORY, nouns: true,
    members: list(
      'ball, kite, hat, balloon, blanket, lantern, bicycle, cookie, umbrella, boat, drum, sandcastle, teddy bear, crayon, backpack, ' +
        'seashell, acorn, scarf|scarves, toy car, music box|music boxes, paintbrush|paintbrushes, flashlight, puzzle, pebble',
    ),
  },
  { name: 'time', kits: ['story', 'general'], members: list('morning, night, evening, afternoon, winter, summer, autumn') },
  { name: 'color', kits: ['story', 'general'], members: list('red, blue, green, yellow, purple, pink, orange, golden, silver') },
  {
    name: 'food', kits: ['story', 'general'], nouns: true,
    members: list('pizza, pancake, apple, soup, sandwich|sandwiches, cupcake, salad, carrot, banana, noodle, dumpling, taco, muffin, strawberry|strawberries, pie'),
  },
  { name: 'weather', kits: ['story', 'general'], members: list('rain, snow, storm, sunshine, wind, fog') },
  {
    name: 'family', kits: ['story', 'general', 'code'], nouns: true,
    members: list('mom, dad, sister, brother, grandma, grandpa, aunt, uncle, cousin, best friend, neighbor, grandmother, grandfather, babysitter'),
  },
  // Data questions.
  {
    name: 'entity', kits: DATA, nouns: true,
    members: list(
      'region, product, customer, store, category|categories, salesperson|salespeople, employee, department, supplier, country|countries, ' +
        'brand, channel, segment, warehouse, sales rep, branch|branches, territory|territories, vendor, product line, campaign, ' +
        'account manager, distributor, franchise|franchises, market',
    ),
  },
  {
    name: 'amount', kits: DATA,
    members: list(
      'revenue, profit, gross margin, average order value, net income, sales, customer spend, marketing spend, customer lifetime value, ' +
        'recurring revenue, shipping cost, operating cost, discount amount',
    ),
  },
  {
    name: 'count', kits: DATA,
    members: list(
      'returns, refunds, shipments, signups, support tickets, invoices, transactions, new accounts, cancellations, ' +
        'late deliveries, units sold, active users, abandoned carts',
    ),
  },
  // Apart from other counts: customers "place" these.
  { name: 'purchases', kits: DATA, members: list('orders, purchases, bookings, online orders, repeat orders, bulk orders, pre-orders, subscription orders') },
  { name: 'superlative', kits: DATA, members: list('highest, lowest, largest, smallest, biggest, fastest-growing, steepest-falling, most stable') },
  {
    name: 'period', kits: DATA,
    members: list(
      'last quarter, this quarter, last month, this month, last year, this year, last week, this week, year to date, ' +
        'over the past six months, in the first half of the year, in Q1, in Q2, in Q3, in Q4, during the holiday season, ' +
        'since the start of the year, over the last 12 months, in 2023, in 2024, in the past 90 days',
    ),
  },
  // Code.
  { name: 'language', kits: CODE, members: list('Python, JavaScript, TypeScript, Java, Rust, Ruby, PHP, Kotlin, Swift, Scala, Elixir, Haskell, Dart, Perl, Lua, Bash, Golang') },
  {
    name: 'structure', kits: CODE, nouns: true,
    members: list('list, array, dictionary|dictionaries, string, hash map, linked list, binary tree, queue, stack, matrix|matrices, JSON object, CSV file, tuple, graph, date string'),
  },
  {
    name: 'operation', kits: CODE,
    members: list('reverse, sort, filter, parse, merge, split, validate, deduplicate, flatten, serialize, compress, search, cache, paginate, transpose, shuffle, normalize, encrypt'),
  },
  {
    name: 'program', kits: CODE, nouns: true,
    members: list('script, program, app, service, CLI tool, notebook, test suite, cron job, web server, Lambda function, microservice, Discord bot, data pipeline, browser extension'),
  },
  {
    name: 'error', kits: CODE,
    members: list(
      'KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError, RecursionError, MemoryError, TimeoutError, ' +
        'NullPointerException, IllegalArgumentException, UnicodeDecodeError, FileNotFoundError, ConcurrentModificationException',
    ),
  },
  { name: 'field', kits: CODE, nouns: true, members: list('key, field, value, property|properties, attribute, element, column, header, parameter, index|indices') },
  // Anywhere.
  {
    name: 'profession', nouns: true,
    members: list(
      'teacher, nurse, doctor, student, manager, engineer, chef, lawyer, developer, designer, accountant, scientist, firefighter, librarian, ' +
        'pilot, mechanic, plumber, journalist, recruiter, analyst, intern, pharmacist, architect, electrician',
    ),
  },
  {
    name: 'document', kits: ['general'], nouns: true,
    members: list('email, report, essay, letter, summary|summaries, blog post, tweet, memo, cover letter, speech|speeches, newsletter, proposal, product description, press release'),
  },
  {
    name: 'country', proper: true, nouns: false,
    members: list(
      'Iceland, Japan, Italy, Portugal, Mexico, Canada, Norway, Peru, Kenya, Vietnam, Greece, Morocco, Spain, France, Germany, Brazil, ' +
        'Argentina, Thailand, Australia, Ireland, Scotland, Croatia, Chile, Egypt, India, Turkey, Sweden, Finland, Indonesia',
    ),
  },
  {
    name: 'duration', kits: ['story', 'code', 'general'],
    members: list('a week, a weekend, two weeks, ten days, a month, a long weekend, an afternoon, a day, three days, a few days, a fortnight, a year'),
  },
  { name: 'spokenLanguage', kits: ['story', 'general'], proper: true, members: list('Spanish, French, German, Italian, Japanese, Mandarin, Portuguese, Korean, Arabic, Hindi, Dutch, Greek, Swedish') },
  {
    name: 'subject', kits: ['general'],
    members: list('math, algebra, geometry, calculus, statistics, history, biology, chemistry, physics, geography, economics, grammar, music theory, astronomy, philosophy'),
  },
  {
    name: 'device', kits: ['general', 'code'], nouns: true,
    members: list('laptop, phone, tablet, smartwatch, printer, router, smart TV, desktop PC, e-reader, game console, smart speaker'),
  },
  { name: 'sport', kits: ['story', 'general'], members: list('tennis, soccer, basketball, swimming, cycling, running, yoga, climbing, golf, volleyball, skiing, rowing, boxing, surfing') },
  { name: 'meal', kits: ['story', 'general'], members: list('breakfast, lunch, dinner, brunch, a picnic, a snack, dessert') },
  { name: 'pet', kits: ['general'], nouns: true, members: list('dog, cat, hamster, parrot, rabbit, goldfish|goldfish, puppy|puppies, kitten, guinea pig, turtle, horse') },
  {
    name: 'city', proper: true,
    members: list('Paris, Tokyo, London, Berlin, Toronto, Sydney, Madrid, Rome, Chicago, Seattle, Lisbon, Dublin, Mumbai, Cairo, Seoul, Nairobi, Lima, Oslo, Denver, Austin, Boston, Vienna, Prague'),
  },
  // No May: "May I ..." is not a month.
  { name: 'month', proper: true, members: list('January, February, March, April, June, July, August, September, October, November, December') },
  { name: 'weekday', proper: true, members: list('Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday') },
];

/** Numbers are a kind of detail too, handled apart from the word lists. */
const NUMBER_CLASS = -1;
const CLASS_BY_NAME = new Map(WORD_CLASSES.map((c, index) => [c.name, index]));

interface LexiconEntry {
  /** Lower-cased words to match: the `after` words, then the member's. */
  words: string[];
  /** How many of `words` belong to the `after` context (kept when replacing). */
  contextWords: number;
  kind: number;
  member: string;
  plural: boolean;
}

/** Entries by their first word, longest first, so "bedtime story" wins over "story". */
const LEXICON: Map<string, LexiconEntry[]> = (() => {
  const byFirst = new Map<string, LexiconEntry[]>();
  WORD_CLASSES.forEach((wordClass, kind) => {
    for (const spec of wordClass.members) {
      const forms: Array<[string, boolean]> = [[baseForm(spec), false]];
      if (wordClass.nouns === true) forms.push([inflect(spec, true), true]);
      for (const context of wordClass.after ?? ['']) {
        const contextWords = splitWords(context).map((w) => w.text.toLowerCase());
        for (const [form, plural] of forms) {
          const words = [...contextWords, ...splitWords(form).map((w) => w.text.toLowerCase())];
          const entry: LexiconEntry = { words, contextWords: contextWords.length, kind, member: spec, plural };
          const bucket = byFirst.get(words[0]!);
          if (bucket === undefined) byFirst.set(words[0]!, [entry]);
          else bucket.push(entry);
        }
      }
    }
  });
  for (const bucket of byFirst.values()) bucket.sort((a, b) => b.words.length - a.words.length);
  return byFirst;
})();

/** A detail found in a text: where it is and what kind it is. */
interface Slot {
  start: number;
  end: number;
  kind: number;
  member: string;
  plural: boolean;
}

interface Word {
  text: string;
  start: number;
  end: number;
}

function splitWords(text: string): Word[] {
  const words: Word[] = [];
  for (const match of text.matchAll(/[\p{L}\p{N}]+(?:['’]\p{L}+)?/gu)) {
    words.push({ text: match[0], start: match.index, end: match.index + match[0].length });
  }
  return words;
}

function findSlots(text: string, kit: KitName): Slot[] {
  const words = splitWords(text);
  const slots: Slot[] = [];
  let i = 0;
  while (i < words.length) {
    const word = words[i]!;
    if (/^\d+$/.test(word.text)) {
      slots.push({ start: word.start, end: word.end, kind: NUMBER_CLASS, member: word.text, plural: false });
      i++;
      continue;
    }
    const entry = LEXICON.get(word.text.toLowerCase())?.find((e) => entryMatches(e, words, i, kit));
    if (entry === undefined) {
      i++;
      continue;
    }
    const first = words[i + entry.contextWords]!;
    const last = words[i + entry.words.length - 1]!;
    slots.push({ start: first.start, end: last.end, kind: entry.kind, member: entry.member, plural: entry.plural });
    i += entry.words.length;
  }
  return slots;
}

function entryMatches(entry: LexiconEntry, words: Word[], at: number, kit: KitName): boolean {
  const wordClass = WORD_CLASSES[entry.kind]!;
  if (wordClass.kits !== undefined && !wordClass.kits.includes(kit)) return false;
  if (wordClass.atStart === true && at !== 0) return false;
  if (at + entry.words.length > words.length) return false;
  for (let k = 0; k < entry.words.length; k++) {
    if (words[at + k]!.text.toLowerCase() !== entry.words[k]) return false;
  }
  if (wordClass.proper === true && !/^\p{Lu}/u.test(words[at + entry.contextWords]!.text)) return false;
  return true;
}

/** Members of each kind that the description and the examples already use. */
function collectDomainWords(texts: string[], kit: KitName): Map<number, string[]> {
  const found = new Map<number, Set<string>>();
  for (const text of texts) {
    for (const slot of findSlots(text, kit)) {
      if (slot.kind === NUMBER_CLASS) continue;
      let members = found.get(slot.kind);
      if (members === undefined) found.set(slot.kind, (members = new Set()));
      members.add(slot.member);
    }
  }
  return new Map([...found].map(([kind, members]) => [kind, [...members]]));
}

function otherNumber(text: string, random: Random): string {
  const n = Number(text);
  if (n >= 1900 && n <= 2100) return String(n + pick([-3, -2, -1, 1, 2], random)); // a year
  if (n <= 12) return String(pick([2, 3, 4, 5, 6, 7, 8, 10, 12].filter((m) => m !== n), random));
  const factor = pick([0.25, 0.5, 0.75, 1.5, 2, 3], random);
  const scaled = Math.max(1, Math.round(n * factor));
  const step = scaled >= 100 ? 50 : scaled >= 20 ? 5 : 1; // keep numbers round, as people write them
  const rounded = Math.max(step, Math.round(scaled / step) * step);
  return String(rounded === n ? n + step : rounded);
}

// ---------------------------------------------------------------------------
// Recombination: head of one request + tail of another, at the same pivot word.
// Only "about ..." and relative clauses: they split a request where its parts are
// whole (what it is about, what happens to it). Prepositions split it anywhere,
// and different relative words attach to different things ("a fox who" / "a story where").

const PIVOTS: ReadonlySet<string> = new Set(list('about, featuring, who, that, where, whose'));

/** Each pivot word's first position in a one-sentence text (after its first two words). */
function pivotsOf(text: string): Map<string, number> {
  const found = new Map<string, number>();
  if (/[.?!]\s+\S/.test(text)) return found; // several sentences: no clean place to cut
  const words = splitWords(text);
  for (let i = 2; i < words.length; i++) {
    const word = words[i]!.text.toLowerCase();
    if (PIVOTS.has(word) && !found.has(word)) found.set(word, words[i]!.start);
  }
  return found;
}

/** `head`'s words up to a pivot, then `tail`'s from the same pivot; null when they share none. */
function splice(head: string, tail: string, random: Random): string | null {
  const headPivots = pivotsOf(head);
  const tailPivots = pivotsOf(tail);
  const shared = [...headPivots.keys()].filter((pivot) => tailPivots.has(pivot));
  if (shared.length === 0) return null;
  const pivot = pick(shared, random);
  const joined = `${head.slice(0, headPivots.get(pivot)!).trimEnd()} ${tail.slice(tailPivots.get(pivot)!)}`;
  // The sentence keeps the mood of its head: a question stays a question.
  const isQuestion = /^(which|what|how|who|when|where|why|can|could|is|are|do|does|did|should|would|will)\b/i.test(head);
  return joined.replace(/[.?!]*\s*$/, isQuestion ? '?' : '.');
}

// ---------------------------------------------------------------------------
// Kinds of application: their templates and framing.

interface Kit {
  name: KitName;
  /** Whole inputs with {slot} placeholders, named after word classes ({creature:s} is plural). */
  templates: string[];
  /** A user's context, said before the request. */
  personas: string[];
  /** Short constraints put inside the request, before its final punctuation. */
  inline: string[];
  /** Constraint sentences after the request. */
  constraints: string[];
  /** Unusual formats and edge cases. */
  twists: string[];
}

/** Framing that fits any application. Each item is one sentence, so it can be recognised and dropped again. */
const GENERIC = {
  personas: [
    'Quick question.', 'Hi!', 'Hello, hoping you can help.', "I'm new to this, so bear with me.", 'Hope your day is going well.',
    'Second time asking today.', "I'm on my phone, sorry for any typos.", 'Long-time user here.', 'A friend recommended I ask you.',
    "I'm in a bit of a hurry.", "I tried this before and wasn't happy with the result.", 'Thanks in advance for your help.', 'Hey there.',
    'Good morning!', 'Sorry if this is a silly question.', "I've never done this before.", 'English is not my first language.',
    "I'm asking for a friend.", 'This is my first time using this.', "I read a few articles but I'm still confused.",
    'I have a slightly unusual request.', 'My last attempt went badly.', 'Following up on my earlier question.',
  ],
  constraints: [
    'Keep it short.', 'Please be concise.', 'Keep it under 150 words.', 'Give me a couple of options to choose from.', 'Thanks!',
    'Keep it friendly.', 'Use short sentences.', 'Avoid anything too obvious.', "Don't repeat my question back to me.", 'One paragraph is enough.',
    'Please use British spelling.', 'Make it sound natural.', 'Be specific rather than general.', 'Give me the short version first.',
  ],
  /** For applications that answer (data, code, general), not for ones that write stories. */
  answerConstraints: [
    'Explain your reasoning.', 'Use plain language.', 'Add a one-line summary at the end.', 'No jargon, please.', 'Bullet points are fine.',
    'Please double-check your answer.', 'Make it easy to skim.', 'A short explanation would help too.', 'Include one concrete example.',
    'Tell me what you assumed.', "Flag anything you're unsure about.", 'Mention one common pitfall.', 'Number the steps.', 'End with a quick recap.',
  ],
  /** Work and study context, for the same applications. */
  workPersonas: [
    "I've been stuck on this for an hour.", 'This is for a project due tomorrow.', "My manager asked me this and I'm not sure.",
    'I need this for a meeting this afternoon.', 'My team is waiting on this.', "I'm presenting this to my boss tomorrow.",
    'A client asked me this today.', "I'm writing this up for our team wiki.",
  ],
  twists: [
    'Make it a haiku.', 'Write it as a text message conversation.', 'Format everything as JSON.', 'Do it in exactly 50 words.',
    'Use only one-syllable words.', 'Reply in Spanish.', 'Reply in French, please.', 'Put it all in a table.',
    'Make it a numbered list of exactly five items.', 'Make every sentence start with the same letter.', 'No more than two sentences.',
    'Write it in the style of a sports commentator.', 'Use an emoji in every sentence.', 'Start with the conclusion and work backwards.',
    'Write it as a limerick.', 'Explain it as if to a pirate.', 'Use exactly three bullet points.', 'Answer in under 20 words.',
    'Write it as an FAQ with three questions.', 'Use a cooking metaphor throughout.', 'Write it as a thread of short posts.',
    'Make it sound like an old newspaper headline.',
  ],
  demanding: [
    "I've asked for this three times now, please get it right.", 'No fluff, just the answer.', "Don't ask me clarifying questions, just do it.",
    'The last answer was way too long, so keep this one tight.', 'Be precise, my job depends on this.', 'I need this in five minutes.',
    "If you can't do it properly, say so.", 'Do exactly what I ask and nothing more.', 'Stop adding disclaimers.', 'Answer first, explain after.',
    'This is URGENT.', 'Last time you ignored half my instructions.', "Don't give me a generic answer.", 'Skip the introduction.',
    'I want a straight answer, not a list of options.', 'No emojis and no exclamation marks.', 'If you have to guess, tell me.',
  ],
};

const KITS: Record<KitName, Kit> = {
  story: {
    name: 'story',
    templates: [
      'Write a {form} about a {trait} {creature} who learns to {lesson}.',
      'Tell me a {form} about a {creature} who is afraid of {weather}.',
      'Can you write a {form} where a {creature} and a {creature} learn to {lesson}?',
      'I need a {form} for my {age}-year-old about a {creature} who lives in a {place}.',
      'Make up a {form} about a {size} {creature} who loses a {object} and learns to {lesson}.',
      'Could you tell me a {form} set in a {place} about a {creature} learning to {lesson}?',
      'Write a {form} about a {trait} {creature} who is scared of {fear}.',
      'My {family} and I would love a {form} about a {creature} and a {object} that teaches kids to {lesson}.',
      'Please write a short {form} about a {trait} {creature} in a {place} who finally learns to {lesson}.',
      'Write a {form} for {age}-year-olds about a {creature} who has to learn to {lesson} at the {place}.',
      'Tell me a {form} about two {creature:s} who learn to {lesson} after an argument over a {object}.',
    ],
    personas: [
      "My 4-year-old won't go to sleep without a story.", "I'm a kindergarten teacher planning tomorrow's circle time.", 'My son just started preschool.',
      "We're on a long car ride and the kids are bored.", "I'm reading to my granddaughter tonight.",
      'My daughter keeps fighting with her little brother.', 'I run a story hour at our library on Saturdays.',
      "I'm making a picture book for my nephew's birthday.", 'Our class is learning about feelings this week.',
      "My twins are six and they've heard all our books a hundred times.",
    ],
    inline: [
      ', in under 100 words', ', for a five-year-old', ', with a happy ending', ', and make it rhyme', ', with a twist at the end', ', set in winter',
      ', using simple words', ', for a rainy afternoon', ', told in the first person', ', with lots of sound effects', ', in three short paragraphs',
      ', with a funny ending', ', suitable for reading aloud', ', with a gentle moral at the end', ', where nobody is the villain',
    ],
    constraints: [
      'Make it rhyme.', 'Keep it under 200 words.', "It's for a five-year-old.", 'Give it a happy ending.', 'Use words a toddler would understand.',
      'Make it funny but not silly.', 'Please give the characters names.', 'End with a question I can ask my kid.',
      'Include a little song the characters sing.', 'Make it calm enough for bedtime.', 'Add a title.',
      'Keep the sentences short so my daughter can read it herself.', 'The lesson should be clear but not preachy.',
      'Include some repetition kids can join in on.', 'It should take about five minutes to read aloud.',
    ],
    twists: [
      'Tell it from the point of view of the villain.', 'Write it as a choose-your-own-adventure with two endings.',
      'Make it exactly six sentences long.', 'Tell it entirely in dialogue.', 'The main character should have no name.',
      'Give it a sad ending that still feels hopeful.', 'Write it as a letter from the main character.',
      'Include a made-up word and explain it at the end.', 'My kid is scared of animals, so no animals please.',
      "It has to work for a child who doesn't speak English well.", 'Write two versions: one for a 3-year-old and one for a 10-year-old.',
      'Leave the ending open so we can finish it together.',
    ],
  },
  data: {
    name: 'data',
    templates: [
      'Which {entity} had the {superlative} {amount} {period}?',
      'What was our total {amount} {period}?',
      'How many {count} did we have {period}?',
      'Show me the top {n} {entity:s} by {amount} {period}.',
      'What was the average {amount} per {entity} {period}?',
      'Compare {amount} {period} with the same period a year earlier.',
      'List every {entity} whose {count} dropped {period}.',
      'Which {entity:s} had no {count} {period}?',
      'Break down {amount} by {entity} and month for {month} through {month}.',
      'How did {count} in {city} change {period}?',
      'Rank {entity:s} by {amount} growth {period}.',
      'What share of {amount} came from each {entity} {period}?',
    ],
    personas: [
      "I'm preparing the quarterly board deck.", "I'm an analyst on the finance team.", 'Our CFO wants this before the Monday meeting.',
      "I'm new to our data warehouse.", "I'm building a dashboard for the sales team.", 'Marketing keeps asking me for this.',
      'I only know basic SQL.', 'We just migrated to a new database.',
    ],
    inline: [
      ', broken down by month', ', excluding refunds', ', for the EMEA region only', ', as a percentage of the total',
      ', sorted from highest to lowest', ', rounded to two decimals', ', counting only active customers', ', compared with the same period last year',
      ', ignoring test accounts', ', grouped by week', ', in US dollars', ', including cancelled orders', ', for online orders only',
      ', with a running total',
    ],
    constraints: [
      'Assume the tables are orders, customers and products.', 'Use PostgreSQL syntax.', 'Please explain the query.', 'Avoid subqueries if you can.',
      'Use a CTE if it makes it clearer.', 'Only return the top 10 rows.', 'Dates are stored as UTC timestamps.', 'Ignore cancelled orders.',
      'Our fiscal year starts in April.', 'Show the SQL and a one-line explanation.', 'We use Snowflake.', 'Round money to two decimals.',
    ],
    twists: [
      'What if some rows have NULL values?', 'Handle ties, there may be several.', 'The table has 2 billion rows, so it must be fast.',
      'Our column names are in German.', 'Some dates are in the future by mistake; ignore them.', 'Also give me the same thing in pandas.',
      'Explain it to someone who has never seen SQL.', 'Write it without any JOINs.', 'Return a single number only.', 'Do it for every year since 2015.',
    ],
  },
  code: {
    name: 'code',
    templates: [
      'How do I {operation} a {structure} in {language}?',
      'Write a {language} function that can {operation} a {structure}.',
      'Why is my {language} code so slow when I {operation} a large {structure}?',
      "What's the cleanest way to {operation} a {structure} in {language}?",
      'Can you explain how to {operation} a {structure} in {language} without a library?',
      'My {language} script crashes when I try to {operation} an empty {structure}. Why?',
      'Show me how to {operation} and then {operation} a {structure} in {language}.',
      'My {language} {program} throws {error} when I read a missing {field} from a {structure}. How do I fix it?',
      'Why does my {program} raise {error} when the {structure} is empty?',
      'Write a {language} {program} that reads a {structure} and prints every {field}.',
    ],
    personas: [
      "I'm a junior developer.", "I'm learning to code on my own.", 'This is for a production service.', "I'm preparing for a coding interview.",
      'Our code review flagged this.', "I'm porting an old project.", 'I mostly write frontend code.',
    ],
    inline: [
      ', without using external libraries', ', with type hints', ', using async/await', ', with unit tests', ', in a single line if possible',
      ', with comments explaining each step', ', that works on very large inputs', ', handling errors properly', ', in a functional style',
    ],
    constraints: [
      'Please add comments.', 'Keep it under 30 lines.', 'Explain the time complexity.', "Don't use any third-party packages.",
      'Include a small usage example.', "I'm on the latest version.", 'Show me how to test it.', 'Make it readable rather than clever.',
    ],
    twists: [
      'It must work with an empty input too.', 'Inputs can contain emoji and other Unicode.', 'Do it without loops.',
      'It has to run on a machine with 64 MB of memory.', 'Explain it like I am five.', 'Write it twice: once readable, once as fast as possible.',
      'No recursion allowed.', 'It has to handle millions of items.',
    ],
  },
  general: {
    name: 'general',
    templates: [
      'Can you help me with {topic}?',
      "I'm a {profession} and I need help with {topic}. Where do I start?",
      'What are the most common mistakes people make with {topic}?',
      "Explain {topic} to me like I'm new to it.",
      'Give me three practical tips for {topic}.',
      "I'm stuck with {topic}. What should I check first?",
      "My {family} asked me about {topic} and I couldn't answer. Can you explain it simply?",
      "What's a good first step with {topic} if I only have an hour?",
      'Is there a simple checklist for {topic}?',
      'How would a {profession} in {city} approach {topic}?',
      "What's the first thing I should know about {topic}?",
      'Compare two ways of handling {topic} and tell me which one you would pick.',
      'I have {duration} to get better at {topic}. Make me a plan.',
      'What should I know about {topic} before I start?',
      'Walk me through {topic} with one real example.',
    ],
    personas: [],
    inline: [
      ', in simple terms', ', in one paragraph', ', step by step', ', with an example', ', briefly', ', in plain English', ', with pros and cons',
      ', as a checklist', ', for a complete beginner', ', in under 100 words', ', if possible', ', in a few bullet points',
      ', with a summary table', ', in order of importance', ', without the obvious stuff', ', for someone in a hurry',
    ],
    constraints: [],
    twists: [],
  },
};
// Every kit also uses the generic framing; those that answer questions, the work-like part of it too.
for (const kit of Object.values(KITS)) {
  kit.personas.push(...GENERIC.personas);
  kit.constraints.push(...GENERIC.constraints);
  if (kit.name !== 'story') {
    kit.personas.push(...GENERIC.workPersonas);
    kit.constraints.push(...GENERIC.answerConstraints);
  }
  if (kit.twists.length === 0) kit.twists.push(...GENERIC.twists);
}

/** Every sentence this generator may add around a request, to recognise (and drop) framing in shots. */
const FRAMING_SENTENCES: ReadonlySet<string> = new Set(
  [...Object.values(KITS).flatMap((kit) => [...kit.personas, ...kit.constraints, ...kit.twists]), ...GENERIC.twists, ...GENERIC.demanding],
);

const KIT_KEYWORDS: Array<[KitName, RegExp]> = [
  ['story', /\b(?:stor(?:y|ies)|tales?|fables?|poems?|bedtime|fairy|children'?s|kids?|characters?|fiction|novels?|lyrics|songs?|picture books?)\b/gi],
  ['data', /\b(?:sql|databases?|quer(?:y|ies)|tables?|revenue|sales|analytics|dashboards?|metrics?|spreadsheets?|kpis?|warehouse)\b/gi],
  ['code', /\b(?:code|coding|programs?|programming|functions?|bugs?|debug\w*|python|javascript|typescript|java|rust|apis?|developers?|compil\w+|scripts?|refactor\w*|regex)\b/gi],
];

/** The kit whose keywords the description (counted twice) and the seeds use most; 'general' unless one is clear (more than one word of the description). */
function detectKit(description: string, examples: string[]): KitName {
  let best: KitName = 'general';
  let bestScore = 2;
  for (const [name, pattern] of KIT_KEYWORDS) {
    const score = 2 * (description.match(pattern)?.length ?? 0) + examples.reduce((n, e) => n + (e.match(pattern)?.length ?? 0), 0);
    if (score > bestScore) {
      best = name;
      bestScore = score;
    }
  }
  return best;
}

const FUNCTION_WORDS = new Set(
  list(
    'a, an, the, and, or, but, of, to, in, on, at, by, for, with, from, as, into, about, over, under, is, are, be, that, this, these, ' +
      'those, it, its, your, our, their, my, me, you, we, they, who, which, what, how, when, where, why, can, will, should, would, ' +
      'each, every, any, some, all, no, not, simple, given, new, using, based, other, such, like',
  ),
);
/** Verbs that application descriptions are made of; they end a topic ("helps people plan trips"). */
const DESCRIPTION_VERB =
  /^(?:help|answer|write|generate|create|summari[sz]e|translate|explain|plan|find|recommend|suggest|classify|extract|review|draft|respond|reply|assist|supports|convert|analy[sz]e|build|make|give|provide|tutor|teach|turn|communicat|check|fix|debug|book|track|manage|organi[sz]e|compare|rewrite|edit|chat|talk|guide|coach|answer)(?:s|es|ing|ed|e|ate|ates|ating)?$/i;
/** Nouns that name the application or its users rather than a topic. */
const GENERIC_NOUNS = new Set(
  list(
    'question, questions, people, users, user, inputs, input, answers, requests, tasks, things, information, help, assistant, app, ' +
      'application, tool, chatbot, bot, service, system, model, llm, ai, students, developers, engineer, engineers, customers, kids, ' +
      'children, beginners, teams, employees, clients, travelers, travellers, staff, company, business',
  ),
);

/** Noun phrases of the description ("the company's sales database", "trips"), for the general templates. */
function topicsOf(description: string): string[] {
  const topics: string[] = [];
  let run: string[] = [];
  const flush = () => {
    const head = run[run.length - 1];
    if (head !== undefined && !GENERIC_NOUNS.has(head.toLowerCase())) {
      const phrase = lowerFirst(run.join(' '));
      // Plurals, names and known subjects ("chemistry") read well bare; other singular nouns want "the".
      const bare = /s$/.test(head) || /^\p{Lu}/u.test(phrase) || (run.length === 1 && LEXICON.has(phrase.toLowerCase()));
      topics.push(bare && !/'s\b/.test(phrase) ? phrase : `the ${phrase}`);
    }
    run = [];
  };
  for (const part of description.split(/[,.;:!?()]/)) {
    // Hyphenated words stay whole here ("on-call engineer").
    for (const [word] of part.matchAll(/[\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*/gu)) {
      if (FUNCTION_WORDS.has(word.toLowerCase()) || DESCRIPTION_VERB.test(word)) flush();
      else run.push(word);
    }
    flush();
  }
  return [...new Set(topics)];
}

// ---------------------------------------------------------------------------
// Voices of the ADVENTUROUS edge cases.

/** A clipped request, as typed in a hurry: no articles, no final punctuation. */
function terse(request: string, random: Random): string {
  const firstSentence = request.split(/(?<=[.!?])\s+/)[0] ?? request;
  const clause = firstSentence.split(',')[0] ?? firstSentence;
  const words = clause
    .replace(/[.?!]+$/, '')
    .split(/\s+/)
    .filter((w) => !/^(a|an|the|please|me|can|could|you)$/i.test(w));
  return words.join(' ').toLowerCase() + pick(['', ' pls', ' asap', '??', ' - short', ' thx', ' quick'], random);
}

/** Lower case, texting shorthand and one slip of the finger. */
function casual(text: string, random: Random): string {
  let out = text
    .toLowerCase()
    .replace(/\byou\b/g, 'u')
    .replace(/\bplease\b/g, 'pls')
    .replace(/\bi'm\b/g, 'im')
    .replace(/\.$/, '');
  const longWords = [...out.matchAll(/\b[a-z]{6,}\b/g)];
  if (longWords.length > 0) {
    const word = pick(longWords, random);
    const at = word.index + 2;
    out = out.slice(0, at) + out[at + 1] + out[at] + out.slice(at + 2);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Small text helpers.

/** Puts a short constraint before the request's final punctuation. */
function withInline(request: string, inline: string): string {
  const match = /[.?!]+$/.exec(request);
  return match === null ? request + inline : request.slice(0, match.index) + inline + match[0];
}

/** Fixes the articles substitutions may have broken ("a owl") and stray spaces. */
function tidy(text: string): string {
  return text
    .replace(/\b(a|an|A|An) ([\p{L}\p{N}]+)/gu, (_m, article: string, word: string) => {
      const an = needsAn(word);
      const fixed = an ? 'an' : 'a';
      return `${article[0] === 'A' ? upperFirst(fixed) : fixed} ${word}`;
    })
    .replace(/\s+([,.?!])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

function needsAn(word: string): boolean {
  const w = word.toLowerCase();
  if (/^(hour|honest|heir)/.test(w)) return true;
  if (/^(uni|use|usu|one|once|eu|ur)/.test(w)) return false;
  if (/^\d/.test(w)) return /^(8|11|18)(\D|$)/.test(w);
  return /^[aeiou]/.test(w);
}

/** The singular display form of a member spec ("mouse|mice" -> "mouse"). */
function baseForm(spec: string): string {
  return spec.split('|')[0]!;
}

/** A member in the singular or plural; the plural is the spec's own or made by rule. */
function inflect(spec: string, plural: boolean): string {
  const [singular, irregular] = spec.split('|') as [string, string | undefined];
  if (!plural) return singular;
  if (irregular !== undefined) return irregular;
  if (/[^aeiou]y$/.test(singular)) return `${singular.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(singular)) return `${singular}es`;
  return `${singular}s`;
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lowerFirst(s: string): string {
  // Keep "I" and acronyms ("SQL") as they are.
  return /^(I\b|\p{Lu}{2})/u.test(s) ? s : s.charAt(0).toLowerCase() + s.slice(1);
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

function pick<T>(items: readonly T[], random: Random): T {
  if (items.length === 0) throw new Error('offline generator: nothing to pick from');
  return items[Math.floor(random() * items.length)]!;
}

function randomInt(min: number, max: number, random: Random): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Up to `k` distinct items, in random order (k is small: a partial Fisher-Yates on a copy). */
function sampleDistinct<T>(items: readonly T[], k: number, random: Random): T[] {
  const copy = [...items];
  const n = Math.min(k, copy.length);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, n);
}
