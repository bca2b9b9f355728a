# layerslayer for people who build with a container daemon (docker build -t layerslayer .).
# Without a daemon, `npm run image` builds the same kind of image as an OCI layout with umoci.

# Build: the self-contained binary, compiled by Bun from the sources.
FROM oven/bun:1.4.5 AS build
WORKDIR /src
COPY package.json package-lock.json bunfig.toml tsconfig.json ./
RUN bun install --production --ignore-scripts
COPY src ./src
COPY scripts/build.ts ./scripts/build.ts
RUN bun scripts/build.ts --outdir /out

# Run: glibc, CA certificates and an unprivileged user, nothing else (no shell, no package manager).
FROM gcr.io/distroless/base-debian12:nonroot
COPY --from=build /out/layerslayer /usr/local/bin/layerslayer
ENV HOME=/home/nonroot
ENTRYPOINT ["/usr/local/bin/layerslayer"]
