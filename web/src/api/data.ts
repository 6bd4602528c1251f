/**
 * openapi-fetch answers `{ data, error }`; our middleware already throws an
 * ApiError for every non-2xx answer, so a settled call always has its data.
 */
export async function data<T>(call: Promise<{ data?: T }>): Promise<T> {
  const result = await call;
  return result.data as T;
}
