/**
 * The fixed applications `npm run eval` generates for: varied on purpose
 * (stories, data questions, support tickets, code, trips), each with a few
 * seeds as a user would give them. Changing them changes every number in
 * docs/quality.md, so change them only together with a new run.
 */
export interface EvalApplication {
  /** Short id, for EVAL_APPS and the per-application table. */
  id: string;
  description: string;
  seeds: string[];
}

export const EVAL_APPLICATIONS: readonly EvalApplication[] = [
  {
    id: 'stories',
    description: "Write a children's story communicating a simple life lesson.",
    seeds: [
      'Write a story about a brave little turtle who learns to share.',
      'Tell me a bedtime story about a dragon who is afraid of the dark.',
      'Write a short fable about a greedy fox and a clever crow for a 6-year-old.',
      'Make up a funny story about a penguin who forgets his best friend’s birthday.',
    ],
  },
  {
    id: 'sql',
    description:
      'Answer questions about the company sales database (tables: orders, customers, products, regions, sales_reps) by writing a SQL query and explaining the result.',
    seeds: [
      'Which region had the highest revenue last quarter?',
      'List the top 10 customers by total order value in 2024.',
      'How many orders were returned each month this year, and what share of all orders is that?',
      'Which sales rep closed the most new accounts in Q3, and how does that compare with Q2?',
      'What is the average order value per product category over the past 90 days?',
    ],
  },
  {
    id: 'support',
    description:
      'A customer-support assistant for Trackly, a SaaS project-management product: it answers questions about accounts, billing, plans, integrations and features.',
    seeds: [
      'How do I reset my password? The reset email never arrives.',
      'We were charged twice for our annual plan this month. Can you refund the duplicate payment?',
      'Does Trackly integrate with Slack, and can I choose which projects post notifications?',
      'How do I move a project from one workspace to another without losing its comments?',
    ],
  },
  {
    id: 'code-review',
    description:
      'A code-review assistant: given a snippet or a diff and a question, it points out bugs, risks and style problems and suggests a fix.',
    seeds: [
      'Review this Python function that merges two sorted lists; it fails when one list is empty.',
      'Is this JavaScript debounce helper safe to call from several components at once?',
      'Why does my Java loop over a HashMap throw ConcurrentModificationException when I remove a key?',
      'Can you check this SQL migration for locking problems before I run it on a large table?',
    ],
  },
  {
    id: 'travel',
    description: 'A travel planner that builds day-by-day itineraries and answers practical questions about trips.',
    seeds: [
      'Plan a 5-day trip to Japan in April for two adults who love food and hiking.',
      'What is the cheapest way to get from Paris to Rome by train, and how long does it take?',
      'I have a long weekend in Lisbon with a toddler. What should we do each day?',
    ],
  },
];
