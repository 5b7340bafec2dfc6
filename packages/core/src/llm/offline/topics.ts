/** The topics of an application description (its noun phrases), for the general templates and the offline themes. */

import { LEXICON } from './details';
import { list, lowerFirst } from './text';

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
export function topicsOf(description: string): string[] {
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
