/**
 * The value rules of numeric options: one per kind of number, so the command line and `serve()`
 * reject the same values alike, with the same words.
 *
 * @example
 * ```ts
 * import { BYTES } from "./rules.ts";
 * BYTES.parse("64k"); // 65536
 * ```
 *
 * @module
 */

export interface NumberRule {
  /** Completes "'x' is not …". */
  readonly expected: string;
  /** CLI text → number; `undefined` when the text is not even the right shape. */
  readonly parse: (text: string) => number | undefined;
  readonly accepts: (value: number) => boolean;
  /** How the help shows a default. */
  readonly show: (value: number) => string;
}

const KIB = 1024;
export const MIB = KIB * KIB;
const GIB = MIB * KIB;
const SIZE_UNITS: Record<string, number> = { "": 1, k: KIB, m: MIB, g: GIB };

const wholeNumber = (text: string): number | undefined =>
  /^\d+$/.test(text) ? Number(text) : undefined;
const decimal = (text: string): number | undefined =>
  /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : undefined;
const isCount = (value: number): boolean => Number.isSafeInteger(value) && value >= 0;

export const PORT: NumberRule = {
  expected: "a port number (0-65535)",
  parse: wholeNumber,
  accepts: (value) => isCount(value) && value <= 65535,
  show: String,
};
export const COUNT: NumberRule = {
  expected: "a whole number (0 or more)",
  parse: wholeNumber,
  accepts: isCount,
  show: String,
};
export const POSITIVE_COUNT: NumberRule = {
  expected: "a whole number (1 or more)",
  parse: wholeNumber,
  accepts: (value) => isCount(value) && value >= 1,
  show: String,
};
/** A count where 0 and `inf` both mean "no limit". */
export const LIMIT: NumberRule = {
  expected: "a whole number, or 0 or inf for no limit",
  parse: (text) => /^inf(inity)?$/i.test(text) ? Infinity : wholeNumber(text),
  accepts: (value) => isCount(value) || value === Infinity,
  show: (value) => value === Infinity ? "inf" : String(value),
};
export const SECONDS: NumberRule = {
  expected: "a number of seconds (0 or more)",
  parse: decimal,
  accepts: (value) => Number.isFinite(value) && value >= 0,
  show: String,
};
export const POSITIVE_SECONDS: NumberRule = {
  expected: "a number of seconds above 0",
  parse: decimal,
  accepts: (value) => Number.isFinite(value) && value > 0,
  show: String,
};
export const BYTES: NumberRule = {
  expected: "a size in bytes (suffix k, m or g allowed; 0 for no limit)",
  parse: (text) => {
    const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text);
    return match ? Number(match[1]) * SIZE_UNITS[match[2].toLowerCase()] : undefined;
  },
  accepts: (value) => isCount(value) || value === Infinity,
  show: (value) => {
    for (const [suffix, unit] of [["g", GIB], ["m", MIB], ["k", KIB]] as const) {
      if (value >= unit && value % unit === 0) return `${value / unit}${suffix}`;
    }
    return String(value);
  },
};
export const VERIFY_MODE: NumberRule = {
  expected: "a verify mode (0-7)",
  parse: wholeNumber,
  accepts: (value) => isCount(value) && value <= 7,
  show: String,
};
export const UMASK: NumberRule = {
  expected: "an octal umask like 022",
  parse: (text) => /^[0-7]{1,4}$/.test(text) ? parseInt(text, 8) : undefined,
  accepts: (value) => isCount(value) && value <= 0o777,
  show: (value) => value.toString(8).padStart(3, "0"),
};
