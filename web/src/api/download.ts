import { rawRequest } from './client';

/** The file name a `content-disposition: attachment; filename="…"` header gives, if any. */
function fileNameOf(response: Response, fallback: string): string {
  const header = response.headers.get('content-disposition') ?? '';
  return /filename="?([^";]+)"?/.exec(header)?.[1] ?? fallback;
}

/**
 * Downloads a file answered by the API (an access export, rejected rows) with the session's
 * cookie, and hands it to the browser as a download. Throws the ApiError of a refused request.
 */
export async function downloadFile(url: string, fallbackName: string): Promise<void> {
  const response = await rawRequest('GET', url);
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  try {
    const link = document.createElement('a');
    link.href = href;
    link.download = fileNameOf(response, fallbackName);
    document.body.append(link);
    link.click();
    link.remove();
  } finally {
    // The click has started the download; the object URL can go once the event loop turns.
    setTimeout(() => URL.revokeObjectURL(href), 1000);
  }
}
