import { defineCommand } from "citty";
import { LayerslayerError } from "../errors.ts";
import { parseRegistry } from "../ref/reference.ts";
import type { OpenedImage } from "../browse/core.ts";
import type { Platform } from "../oci/manifest.ts";
import type { ImageSource } from "../source/source.ts";
import { globalArgs, registryContext, setup, type Context, type GlobalArgs } from "./common.ts";
import { hubClient } from "./hub-args.ts";

/**
 * A REGISTRY rather than an IMAGE: one word without a slash whose host has a dot or is localhost
 * (or an IPv6 address in brackets), with an optional numeric port ("127.0.0.1:5000",
 * "registry.example.com", "localhost"), or any name ending in "/". "debian:12", "python:3.12",
 * "alpine" and local images (oci:, oci-archive:, docker-archive:) stay images.
 */
export function registryArgument(arg: string): string | undefined {
  if (/^(oci|oci-archive|docker-archive):|^docker:\/\//.test(arg)) return undefined;
  if (arg.endsWith("/") && !arg.slice(0, -1).includes("/")) return parseRegistry(arg);
  // host[:port] with a numeric port only: "python:3.12" is an image with its tag.
  const m = /^([^/@:]+|\[[0-9a-fA-F:]+\])(?::(\d+))?$/.exec(arg);
  if (!m) return undefined;
  const host = m[1]!;
  return host.includes(".") || host === "localhost" || host.startsWith("[") ? parseRegistry(arg) : undefined;
}

/** The image a reference names, or the platforms to choose from when it is an index of several (and --platform did not choose). */
async function openFirst(ctx: Context, source: ImageSource): Promise<{ image: OpenedImage } | { platforms: Platform[] }> {
  const [{ openImage }, { platformChoices }] = await Promise.all([import("../browse/core.ts"), import("../browse/where.ts")]);
  const platforms = ctx.platform ? undefined : await platformChoices(source);
  return platforms ? { platforms } : { image: await openImage(ctx, source) };
}

export default defineCommand({
  meta: {
    name: "browse",
    description: "Browse images full screen without pulling them: a registry's repositories or a Docker Hub search, tags, platforms, then layers, files, diffs",
  },
  args: {
    image: {
      type: "positional",
      required: false,
      description: "Image reference (alpine:3.20, localhost:5000/team/app:v1, oci:DIR), a REGISTRY (localhost:5000) for its catalog, or nothing to search Docker Hub",
    },
    ...globalArgs,
  },
  async run({ args }) {
    if (!process.stdin.isTTY || !process.stdout.isTTY) throw new LayerslayerError("USAGE", "browse needs a terminal (standard input and output); for scripts see ls, find and cat");
    const given = args as GlobalArgs & { image?: string };
    const registry = given.image ? registryArgument(given.image) : undefined;
    const clientOf = async (reg: string) => (await registryContext(given, reg)).client;
    const { catalogItems, hubSearchProvider, tagItems } = await import("../browse/where.ts");
    const opener = {
      open: (reference: string) => setup({ ...given, image: reference }),
      catalog: async (reg: string) => catalogItems(await clientOf(reg), reg),
      tags: async (reg: string, repository: string) => tagItems(await clientOf(reg), reg, repository),
    };
    // An image is resolved before the screen changes, so a bad reference is a one-line error.
    const first = given.image && !registry ? await setup(given as GlobalArgs & { image: string }) : undefined;
    // ink paints through chalk, which turns itself off where the environment names a CI (CI=true in
    // a developer's shell too); browse chooses colours itself (NO_COLOR) and marks the cursor in
    // reverse video, so the basic attributes stay on, on this terminal, unless FORCE_COLOR says otherwise.
    process.env.FORCE_COLOR ??= "1";
    // The image (manifest, config), or the platforms of an index, is read while React and ink load.
    const opening = first && openFirst(first.ctx, first.source);
    const [{ Navigator }, { runApp }, opened] = await Promise.all([import("../browse/nav.ts"), import("../browse/app.ts"), opening]);
    const nav = new Navigator(opener);
    if (registry) nav.push(nav.registry(registry));
    else if (!first || !opened) nav.push(nav.search(hubSearchProvider(hubClient(given))));
    else if ("platforms" in opened) nav.push(nav.platforms(first.ctx, first.source, opened.platforms));
    else {
      const { Browser } = await import("../browse/state.ts");
      nav.pushImage(new Browser(first.ctx, opened.image));
    }
    await runApp(nav);
  },
});
