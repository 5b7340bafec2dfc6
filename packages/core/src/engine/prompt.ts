import type { ModeSettings } from './modes';

/**
 * Prompts for the LLM. The system prompt is the fixed part of a job (the
 * application and the rules), the user prompt the part that changes per batch.
 */

export const SUBMIT_TOOL_NAME = 'submit_inputs';

/** JSON schema of the structured output: the inputs, as a list of strings. */
export const SUBMIT_TOOL_SCHEMA = {
  type: 'object',
  properties: {
    inputs: {
      type: 'array',
      items: { type: 'string', description: 'One complete, self-contained input, exactly as a user would send it.' },
      description: 'The new inputs.',
    },
  },
  required: ['inputs'],
} as const;

export function buildSystemPrompt(applicationDescription: string, mode: ModeSettings): string {
  return [
    'You write realistic inputs for an LLM application, to be used as evaluation and training data.',
    '',
    '<application>',
    applicationDescription,
    '</application>',
    '',
    'Rules:',
    '- Each input is what a user of this application would actually send it: a request or a text to work on, never an answer to one.',
    '- Each input is complete and self-contained, and different from the examples and from every other input you write.',
    '- Match the language of the examples. Do not number the inputs, quote them, or add commentary.',
    `- ${mode.directive}`,
    '',
    `Return the inputs by calling the ${SUBMIT_TOOL_NAME} tool.`,
  ].join('\n');
}

export function buildBatchPrompt(shots: readonly string[], count: number): string {
  const examples = shots.map((shot, i) => `<example index="${i + 1}">\n${shot}\n</example>`).join('\n');
  return [
    'Here are example inputs for this application:',
    examples,
    '',
    `Write ${count} new input${count === 1 ? '' : 's'} for this application.`,
  ].join('\n');
}

/** For a job given no seeds: ask for a few first inputs from the description alone. */
export function buildFirstSeedsPrompt(count: number): string {
  return [
    'No example inputs exist yet for this application.',
    `Write ${count} typical, varied inputs that users of this application would send; they will serve as the first examples.`,
  ].join('\n');
}
