import { ApiError } from '../api/client';

/** The reason a failed request gives for one field, to show beside that field. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.forField(field) : undefined;
}
