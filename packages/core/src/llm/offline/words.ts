/**
 * The word lists: typed details, words and phrases of one kind that can stand
 * in for each other ("turtle" for "dragon", "last quarter" for "this year").
 * They fill the templates' {slots} and are what substitution swaps.
 */

import type { KitName } from './kits';
import { list } from './text';

export interface WordClass {
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

const STORY: KitName[] = ['story'];
const DATA: KitName[] = ['data'];
const CODE: KitName[] = ['code'];

export const WORD_CLASSES: WordClass[] = [
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
export const NUMBER_CLASS = -1;
export const CLASS_BY_NAME = new Map(WORD_CLASSES.map((c, index) => [c.name, index]));
