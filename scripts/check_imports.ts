/**
 * Fails when the package's own modules import each other in a cycle, type-only imports and
 * dynamic imports included: a cycle hides which module is the lower layer, and a type-only one
 * still ties two files together. Run by `deno task check`.
 *
 * ```sh
 * deno run -A scripts/check_imports.ts
 * ```
 *
 * @module
 */

import { relative } from "node:path";

const root = new URL("../", import.meta.url);
const rootPath = decodeURIComponent(root.pathname);

/** Every module of the package: the entry points and everything under `lib/`. */
async function packageModules(): Promise<string[]> {
  const found = [new URL("mod.ts", root).href, new URL("cli.ts", root).href];
  const walk = async (dir: URL) => {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory) await walk(new URL(`${entry.name}/`, dir));
      else if (/\.(ts|js|mjs)$/.test(entry.name)) found.push(new URL(entry.name, dir).href);
    }
  };
  await walk(new URL("lib/", root));
  return found.sort();
}

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** The package's import graph, as `deno info` sees it (code and type edges alike). */
async function importGraph(modules: string[]): Promise<Map<string, Set<string>>> {
  const entry = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(entry, modules.map((m) => `import ${JSON.stringify(m)};\n`).join(""));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: rootPath,
      stdout: "piped",
      stderr: "inherit",
    }).output();
    if (!output.success) throw new Error("deno info failed");
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as { modules: InfoModule[] };
    const ours = new Set(modules);
    const graph = new Map<string, Set<string>>();
    for (const module of info.modules) {
      if (!ours.has(module.specifier)) continue;
      const edges = new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          if (target !== undefined && ours.has(target)) edges.add(target);
        }
      }
      graph.set(module.specifier, edges);
    }
    return graph;
  } finally {
    await Deno.remove(entry);
  }
}

/** The strongly connected components with more than one module, or a module importing itself. */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

if (import.meta.main) {
  const graph = await importGraph(await packageModules());
  const found = cycles(graph);
  const show = (specifier: string) =>
    relative(rootPath, decodeURIComponent(new URL(specifier).pathname));
  if (found.length === 0) {
    console.log(`no import cycles among ${graph.size} modules`);
  } else {
    for (const component of found) {
      console.error(`import cycle: ${component.map(show).join(" ↔ ")}`);
    }
    Deno.exit(1);
  }
}
