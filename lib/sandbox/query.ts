/**
 * Questions about this process's own permissions that never trigger a permission prompt.
 *
 * @module
 */

/** Whether this process holds `descriptor` (never prompts; an invalid descriptor is not held). */
export function holds(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(descriptor).state === "granted";
  } catch {
    return false;
  }
}

/** An environment variable, or `undefined` when it is unset or not readable without a prompt. */
export function envGet(name: string): string | undefined {
  if (!holds({ name: "env", variable: name })) return undefined;
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}
