/**
 * An `EventTarget` whose listeners cannot crash the process. In Deno a listener that throws
 * reaches `reportException`, which terminates the isolate (a worker, and then its parent)
 * unless a global `error` handler cancels it; `reportError` does the same, and so does an
 * unhandled rejection from an `async` listener. A socket serves one client among many, so its
 * listeners' errors are logged with `console.error` instead.
 *
 * @module
 */

/**
 * Wraps every listener so that what it throws is logged, not reported. Listener identity is
 * kept: removing the listener that was added removes its wrapper.
 *
 * @example
 * ```ts
 * import { GuardedEventTarget } from "./guarded_event_target.ts";
 * const target = new GuardedEventTarget();
 * target.addEventListener("ping", () => { throw new Error("logged, not fatal"); });
 * target.dispatchEvent(new Event("ping"));
 * ```
 */
export class GuardedEventTarget extends EventTarget {
  // Per listener, its wrapper for each (type, capture): the keys EventTarget deduplicates on.
  readonly #wrappers = new WeakMap<
    EventListenerOrEventListenerObject,
    Map<string, EventListener>
  >();

  /** Adds `listener` like `EventTarget`, guarded against exceptions. */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    if (listener === null) return;
    const key = wrapperKey(type, options);
    let byKey = this.#wrappers.get(listener);
    if (!byKey) this.#wrappers.set(listener, byKey = new Map());
    let wrapper = byKey.get(key);
    if (!wrapper) byKey.set(key, wrapper = guard(listener));
    super.addEventListener(type, wrapper, options);
  }

  /** Removes a listener added with {@link addEventListener}. */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    if (listener === null) return;
    const key = wrapperKey(type, options);
    const byKey = this.#wrappers.get(listener);
    const wrapper = byKey?.get(key);
    if (!wrapper) return;
    byKey!.delete(key);
    super.removeEventListener(type, wrapper, options);
  }
}

function wrapperKey(type: string, options?: boolean | EventListenerOptions): string {
  const capture = typeof options === "boolean" ? options : options?.capture === true;
  return `${capture ? "c" : "b"}:${type}`;
}

function guard(listener: EventListenerOrEventListenerObject): EventListener {
  return function (this: EventTarget, event: Event): void {
    const log = (error: unknown): void =>
      console.error(`Uncaught error in a WebSocket "${event.type}" listener:`, error);
    try {
      const result: unknown = typeof listener === "function"
        ? listener.call(this, event)
        : listener.handleEvent(event);
      if (result instanceof Promise) result.catch(log);
    } catch (error) {
      log(error);
    }
  };
}
