/**
 * The shape of a scenario module in bench/scenarios/: adding one is writing one such object and
 * listing it in bench/scenarios/mod.ts.
 *
 * @module
 */

/** Settings from run.ts's flags, shared by all scenarios. */
export interface Options {
  rounds: number;
  /** Whole seconds per measured wrk run. */
  duration: number;
  /** Seconds of unmeasured load before the rounds, so every JIT is warm. */
  warmup: number;
  quick: boolean;
  /** Path of Starlight's mod.ts. */
  starlight: string;
  /** Keep only contenders whose label contains one of these (case-insensitive); all if unset. */
  only?: string[];
  /** Whether Bun may be installed from the npm registry into bench/.cache/ when missing. */
  installBun: boolean;
}

/**
 * A scenario's headline per contender, for the summary that closes the report (the README's
 * Speed table). Keyed by the contender's summary column.
 */
export interface SummaryRow {
  scenario: string;
  cells: Record<string, string>;
}

/** What a scenario prints: its section, and its rows of the summary. */
export interface Section {
  body: string;
  summary: SummaryRow[];
}

export interface Scenario {
  /** What `--scenario=` selects. */
  name: string;
  /** The heading of its section. */
  title: string;
  /** Whether `--quick` runs it. */
  quick: boolean;
  /** Runs it and returns its Markdown section body and summary rows. */
  run(options: Options): Promise<Section>;
}
