/** One field-level problem, reported in problem+json `errors`. */
export interface FieldProblem {
  field: string;
  reason: string;
}

/**
 * A failure with a stable `code` that the HTTP error handler maps to
 * problem+json (type = code) and the CLI prints as a message.
 *
 * @example throw new AppError('ContactNotFound', 404, 'No contact 42 in this project')
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly errors: FieldProblem[] = [],
  ) {
    super(message);
    this.name = code;
  }
}

export const notFound = (what: string, id?: string | number): AppError =>
  new AppError(`${what}NotFound`, 404, id === undefined ? `${what} not found` : `${what} ${id} not found`);

export const badInput = (field: string, reason: string, code = 'InvalidInput'): AppError =>
  new AppError(code, 400, `${field}: ${reason}`, [{ field, reason }]);
