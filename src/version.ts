/** Kept in step with package.json by the release step (read at build time would cost a file read per command). */
export const VERSION = '0.1.0';
