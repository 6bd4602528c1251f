// Without an icon of its own, a browser fetches /favicon.ico for every hosted page: a 404 that shows as an error
// in the person's console (and in every browser test's console check).
import { describe, expect, it } from 'vitest';
import { html } from './html.js';
import { layout } from './views.js';

describe('hosted page layout', () => {
  it('names an empty inline icon, so the browser asks the server for no /favicon.ico', () => {
    const page = layout({ lang: 'en', path: '/f/subscribe/1' }, 'Title', html`<h1>Title</h1>`).value;
    expect(page).toContain('<link rel="icon" href="data:,">');
  });
});
