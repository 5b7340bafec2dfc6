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

// Files: generator.ts (the LlmProvider adapter), writer.ts (one batch of
// inputs), styles.ts (how each mode edits), themesAndCritic.ts, kits.ts
// (kinds of application: templates and framing), words.ts (the word lists),
// details.ts (finding their words in a text), edits.ts (recombination and
// voices), topics.ts (topics of a description), text.ts and choice.ts (helpers).

export { OfflineGenerator, type OfflineGeneratorOptions } from './generator';
