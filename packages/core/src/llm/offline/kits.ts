/**
 * Kinds of application (stories, data questions, code, general) and the
 * phrase lists of each: whole-input templates and the framing put around a
 * request (a user's context, constraints, unusual formats, demanding users);
 * and how a job's kind is recognised.
 */

/** Kinds of application with their own templates and details; 'general' is the fallback. */
export type KitName = 'story' | 'data' | 'code' | 'general';

export interface Kit {
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
export const GENERIC = {
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

export const KITS: Record<KitName, Kit> = {
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
export const FRAMING_SENTENCES: ReadonlySet<string> = new Set(
  [...Object.values(KITS).flatMap((kit) => [...kit.personas, ...kit.constraints, ...kit.twists]), ...GENERIC.twists, ...GENERIC.demanding],
);

const KIT_KEYWORDS: Array<[KitName, RegExp]> = [
  ['story', /\b(?:stor(?:y|ies)|tales?|fables?|poems?|bedtime|fairy|children'?s|kids?|characters?|fiction|novels?|lyrics|songs?|picture books?)\b/gi],
  ['data', /\b(?:sql|databases?|quer(?:y|ies)|tables?|revenue|sales|analytics|dashboards?|metrics?|spreadsheets?|kpis?|warehouse)\b/gi],
  ['code', /\b(?:code|coding|programs?|programming|functions?|bugs?|debug\w*|python|javascript|typescript|java|rust|apis?|developers?|compil\w+|scripts?|refactor\w*|regex)\b/gi],
];

/** The kit whose keywords the description (counted twice) and the seeds use most; 'general' unless one is clear (more than one word of the description). */
export function detectKit(description: string, examples: string[]): KitName {
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
