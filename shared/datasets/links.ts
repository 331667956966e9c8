/**
 * The links port: how the services give out a URL that downloads something they store for a caller (an export's
 * archive, an import's error report). The services decide *whether* the caller may have it (they read the task by
 * the caller's account); the adapter (`shared/downloads`: S3 presigned URLs in the cloud, the local download server's
 * signed URLs in the twin, an upstream's own URLs later) decides what the URL looks like.
 */

/**
 * What a link downloads: a kind, the id of what it belongs to (a task; a sample for `samples`, its own object, and
 * `images`, an image it names), and where the object is stored.
 */
export interface LinkTarget {
  kind: 'exports' | 'import-errors' | 'samples' | 'images';
  id: string;
  location: { bucket: string; key: string };
}

export interface Links {
  /** A URL that downloads `target` with a plain GET until it expires, for the caller (signed with its key locally). */
  url(caller: { account: string; accessKeyId?: string }, target: LinkTarget): Promise<string>;
}

/** No links (tests and tools that never hand URLs out): every URL is empty. */
export const NO_LINKS: Links = { url: async () => '' };
