import {
  buildBatchPrompt,
  buildFirstSeedsPrompt,
  buildSystemPrompt,
  EXPLORATION_MODES,
  MODE_SETTINGS,
  SUBMIT_TOOL_NAME,
  SUBMIT_TOOL_SCHEMA,
} from '@datagen/core';

const DESCRIPTION = 'A support assistant for Acme Bank customers asking about cards, transfers and fees.';

describe('buildSystemPrompt', () => {
  it("contains the application description and the mode's directive", () => {
    for (const mode of EXPLORATION_MODES) {
      const system = buildSystemPrompt(DESCRIPTION, MODE_SETTINGS[mode]);
      expect(system).toContain(DESCRIPTION);
      expect(system).toContain(MODE_SETTINGS[mode].directive);
      for (const other of EXPLORATION_MODES) {
        if (other !== mode) expect(system).not.toContain(MODE_SETTINGS[other].directive);
      }
    }
  });

  it('names the submit tool', () => {
    expect(buildSystemPrompt(DESCRIPTION, MODE_SETTINGS.BALANCED)).toContain(SUBMIT_TOOL_NAME);
  });

  it('keeps a multi-line description intact', () => {
    const description = 'Line one of the app.\nLine two: "quoted" <b>markup</b>.';
    expect(buildSystemPrompt(description, MODE_SETTINGS.CREATIVE)).toContain(description);
  });
});

describe('buildBatchPrompt', () => {
  it('contains each shot, in order, and the count asked for', () => {
    const shots = ['How do I freeze my card?', 'Why was I charged a fee on\nmy transfer?', 'Raise my limit to $5,000.'];
    const prompt = buildBatchPrompt(shots, 7);
    let position = -1;
    for (const shot of shots) {
      const at = prompt.indexOf(shot);
      expect(at).toBeGreaterThan(position);
      position = at;
    }
    expect(prompt).toContain('Write 7 new inputs');
  });

  it('says "input" for a count of one', () => {
    expect(buildBatchPrompt(['x'], 1)).toContain('Write 1 new input for');
  });

  it('numbers the examples', () => {
    const prompt = buildBatchPrompt(['a', 'b'], 2);
    expect(prompt).toContain('<example index="1">\na\n</example>');
    expect(prompt).toContain('<example index="2">\nb\n</example>');
  });
});

describe('buildFirstSeedsPrompt', () => {
  it('asks for the count and says no examples exist', () => {
    const prompt = buildFirstSeedsPrompt(5);
    expect(prompt).toContain('Write 5 ');
    expect(prompt).toMatch(/no example inputs/i);
  });
});

describe('SUBMIT_TOOL_SCHEMA', () => {
  it('asks for an object with a required array of strings named inputs', () => {
    expect(SUBMIT_TOOL_SCHEMA.type).toBe('object');
    expect(SUBMIT_TOOL_SCHEMA.required).toEqual(['inputs']);
    expect(SUBMIT_TOOL_SCHEMA.properties.inputs.type).toBe('array');
    expect(SUBMIT_TOOL_SCHEMA.properties.inputs.items.type).toBe('string');
  });
});
