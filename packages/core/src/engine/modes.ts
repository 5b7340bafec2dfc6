import type { ExplorationMode } from '../model/job';

/**
 * What each exploration mode means to the engine. Tighter and closer for
 * CONSERVATIVE, wider and further for ADVENTUROUS. The README carries this
 * table; keep the two in step.
 */
export interface ModeSettings {
  /** The band the sampling temperature moves in; a job starts at its low end. */
  temperature: { min: number; max: number };
  /** Share of the shots in a prompt drawn from inputs already accepted (the rest are seeds). */
  generatedShotShare: number;
  /** What the prompt asks of the new inputs. */
  directive: string;
  /**
   * Near-duplicate threshold: a candidate whose ROUGE-L F1 with any seed or
   * accepted input reaches this is rejected as "similar". Lower rejects more,
   * which pushes the set apart.
   */
  nearDuplicateThreshold: number;
}

export const MODE_SETTINGS: Record<ExplorationMode, ModeSettings> = {
  CONSERVATIVE: {
    temperature: { min: 0.5, max: 0.7 },
    generatedShotShare: 0,
    directive:
      'Stay close to the examples: same topics, tone, length and format. Vary the specifics (names, details, wording) so each input is distinct.',
    nearDuplicateThreshold: 0.85,
  },
  BALANCED: {
    temperature: { min: 0.7, max: 0.9 },
    generatedShotShare: 0.25,
    directive:
      'Cover the same kind of requests as the examples, but vary topics, situations and phrasing so the set covers the application broadly.',
    nearDuplicateThreshold: 0.75,
  },
  CREATIVE: {
    temperature: { min: 0.85, max: 1.0 },
    generatedShotShare: 0.4,
    directive:
      'Go beyond the examples: new topics, different user situations, other lengths and formats, while staying realistic for this application.',
    nearDuplicateThreshold: 0.65,
  },
  ADVENTUROUS: {
    temperature: { min: 0.95, max: 1.0 },
    generatedShotShare: 0.5,
    directive:
      'Explore the edges of the application: unusual requests, edge cases, unexpected formats and demanding users, each still a valid input for this application.',
    nearDuplicateThreshold: 0.55,
  },
};
