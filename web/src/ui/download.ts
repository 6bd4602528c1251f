import { rawRequest } from '../api/client';

/** Downloads a file the API answers (an export) under the name the server gives, or `fallback`. */
export async function downloadFile(url: string, fallback: string): Promise<void> {
  const response = await rawRequest('GET', url);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallback;
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = href;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}
