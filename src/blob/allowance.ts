/**
 * What one read of a blob may cost before it gives up: its allowance of failed tries (shared by
 * every request of the read, replenished by bytes received), the stall bound, and the hard bound
 * on requests. The blob reader (reader.ts) and the reads that share its allowance (a TOC probe)
 * draw on these.
 */
import { Attempts } from "../registry/retry.ts";

/** How long one read of a body may wait for bytes before the transfer counts as broken (resumed). */
export const DEFAULT_IDLE_MS = 60_000;
/** A read fails once nothing has arrived for this many idle timeouts, however its tries went. */
const STALLS_PER_READ = 2;
const MiB = 1024 * 1024;

/**
 * Answers that are not what was asked for, tolerated per read before giving up: a range that
 * starts past the byte asked for, an empty or backwards range, a size other than the descriptor's,
 * a body cut short, reset or stalled, and the transport's failed tries (a reset before any answer,
 * a 5xx). One more is allowed per MiB that did arrive in this read, so a long but flaky download
 * still finishes; one that makes no progress fails after these few, wherever in the blob it starts
 * (a 128-byte tail read of a 1 GB blob as soon as a read from byte 0).
 */
export const MAX_FAULTS_PER_BLOB = 5;

/** A fresh allowance of tries for reading one blob (what every BlobReader starts with unless given one). */
export function blobAttempts(failures = MAX_FAULTS_PER_BLOB, idleTimeoutMs = DEFAULT_IDLE_MS): Attempts {
  return new Attempts({ failures, perMiB: 1, stallMs: STALLS_PER_READ * idleTimeoutMs });
}

/**
 * The hard bound on requests for one read: REQUEST_LIMIT.base + REQUEST_LIMIT.perMiB per MiB of
 * what the read may deliver (the blob from its start, or the budget). A read that gets what it asks
 * for needs at most ~6 + size/8 MiB of them (ranges double from 256 KiB to 8 MiB) and faults add at
 * most MAX_FAULTS_PER_BLOB + size/1 MiB, so only a server that keeps answering with much less than
 * asked (under ~512 KiB a request) ever meets it.
 */
export const REQUEST_LIMIT = { base: 16, perMiB: 2 } as const;

/** Requests allowed for a read of up to `span` bytes (the base alone while the size is unknown). */
export function requestLimit(span: number | undefined): number {
  return REQUEST_LIMIT.base + REQUEST_LIMIT.perMiB * Math.ceil((span ?? 0) / MiB);
}
