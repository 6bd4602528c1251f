// busboy's own errors (a truncated body, a missing boundary, a bad part header) carry no HTTP status, so they
// would read as server faults: they are the client's.
const BUSBOY_ERROR = /multipart|boundary|part header|unexpected end of form/i;

/** Whether `error` is a malformed multipart body rather than a fault of ours. */
export function isMalformedMultipart(error: unknown): error is Error {
  return error instanceof Error && (error as { statusCode?: number }).statusCode === undefined && BUSBOY_ERROR.test(error.message);
}
