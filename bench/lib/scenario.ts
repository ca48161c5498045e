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
}

export interface Scenario {
  /** What `--scenario=` selects. */
  name: string;
  /** The heading of its section. */
  title: string;
  /** Whether `--quick` runs it. */
  quick: boolean;
  /** Runs it and returns its Markdown section body: a table and notes. */
  run(options: Options): Promise<string>;
}
