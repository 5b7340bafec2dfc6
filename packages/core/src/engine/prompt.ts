import type { ModeSettings } from './modes';

/**
 * Prompts for the LLM. The system prompt is the fixed part of a job (the
 * application and the rules), the user prompt the part that changes per batch.
 */

export const SUBMIT_TOOL_NAME = 'submit_inputs';
export const SUBMIT_TOOL_DESCRIPTION = 'Submit what the request asks for (new inputs, themes or verdicts) as a list of strings, in order.';

/** JSON schema of the structured output: the inputs, as a list of strings. */
export const SUBMIT_TOOL_SCHEMA = {
  type: 'object',
  properties: {
    inputs: {
      type: 'array',
      items: { type: 'string', description: 'One item, exactly as the request asks: an input as a user would send it, a theme, or a verdict.' },
      description: 'The items the request asks for, in order.',
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

export function buildBatchPrompt(shots: readonly string[], count: number, theme?: string): string {
  const examples = shots.map((shot, i) => `<example index="${i + 1}">\n${shot}\n</example>`).join('\n');
  const lines = ['Here are example inputs for this application:', examples, ''];
  if (theme !== undefined) lines.push(`Theme for this batch: ${theme}. Write inputs that fit this theme, and the application.`);
  lines.push(`Write ${count} new input${count === 1 ? '' : 's'} for this application.`);
  return lines.join('\n');
}

/** For a job given no seeds: ask for a few first inputs from the description (and its themes) alone. */
export function buildFirstSeedsPrompt(count: number, themes: readonly string[] = []): string {
  const lines = ['No example inputs exist yet for this application.'];
  if (themes.length > 0) lines.push(`Spread them over these themes: ${themes.join('; ')}.`);
  lines.push(`Write ${count} typical, varied inputs that users of this application would send; they will serve as the first examples.`);
  return lines.join('\n');
}

/**
 * Themes: sub-topics, user situations and input formats that inputs can be
 * about, asked for once per job. The bolder the mode, the more themes and the
 * further they reach.
 */
export function buildThemesPrompt(count: number, reachEdges: boolean, seeds: readonly string[]): string {
  const lines = [
    'Before any inputs are written, map out this application.',
    `Write ${count} distinct themes that inputs for it could be about: sub-topics, user situations and input formats.`,
    'Each theme is a short phrase of 3 to 10 words. Cover the application broadly; no two themes alike.',
  ];
  if (reachEdges) {
    lines.push('Include unusual and edge-case themes, and adversarial-but-valid ones: hard or tricky requests a real user could still send.');
  }
  if (seeds.length > 0) lines.push('Inputs users have sent look like these:', ...seeds.slice(0, 5).map((seed) => `- ${seed}`));
  return lines.join('\n');
}

/** The critic's instructions: the fixed part of every critique call of a job. */
export function buildCriticSystemPrompt(applicationDescription: string): string {
  return [
    'You review candidate inputs written for an LLM application, before they join an evaluation set.',
    '',
    '<application>',
    applicationDescription,
    '</application>',
    '',
    'An input is good when it is on task for this application, self-contained (it can be sent as it is),',
    'realistic for a user of the application, and not merely a rewording of one of the examples.',
    'Otherwise it is bad. Judge each input on its own.',
    '',
    `Return the verdicts by calling the ${SUBMIT_TOOL_NAME} tool: one item per input, in order, each exactly "good" or "bad: <short reason>".`,
  ].join('\n');
}

export function buildCritiquePrompt(inputs: readonly string[], examples: readonly string[]): string {
  return [
    'Examples of inputs for this application:',
    ...examples.map((e) => `<example>\n${e}\n</example>`),
    '',
    'Judge these candidate inputs:',
    ...inputs.map((input, i) => `<input index="${i + 1}">\n${input}\n</input>`),
    '',
    `Write ${inputs.length} verdict${inputs.length === 1 ? '' : 's'}, one per input, in order.`,
  ].join('\n');
}
