/**
 * The text writer: one batch of new inputs, edited from the examples it is
 * shown (or, with none, written from templates), each checked with ROUGE-L
 * against the examples and its batch-mates and remade when too close.
 */

import { MODE_SETTINGS } from '../../engine/modes';
import { tokenize } from '../../engine/normalize';
import type { Random } from '../../engine/random';
import { rougeLF1 } from '../../engine/similarity';
import type { BatchContext } from '../provider';
import { pick, randomInt, sampleDistinct } from './choice';
import { collectDomainWords, findSlots, otherNumber, type Slot } from './details';
import { casual, splice, terse } from './edits';
import { detectKit, FRAMING_SENTENCES, GENERIC, KITS, type Kit } from './kits';
import { blendStyles, NEXT_MODE, STYLES, type Style } from './styles';
import { baseForm, inflect, lowerFirst, tidy, upperFirst, withInline } from './text';
import { topicsOf } from './topics';
import { CLASS_BY_NAME, NUMBER_CLASS, WORD_CLASSES } from './words';

/** Attempts per candidate before it is returned as it is (the engine then judges it). */
const MAX_ATTEMPTS = 8;
/** Candidates aim this far below the near-duplicate threshold, to leave room for other accepted inputs. */
const SIMILARITY_MARGIN = 0.03;

/** One batch: each `next()` is one more candidate, unlike the examples and the batch so far. */
export class BatchWriter {
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

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}
