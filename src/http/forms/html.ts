import { escapeHtml } from '../../domain/escape-html.js';

/** Markup that is already safe: produced by {@link html}, never from raw input. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}


type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * A tagged template that escapes every interpolated value unless it is
 * itself the result of `html` (arrays are joined; null, undefined and false
 * render nothing). Attribute values must be quoted in the template.
 *
 * @example html`<p title="${name}">${name}</p>` // name = '<b>' → '<p title="&lt;b&gt;">&lt;b&gt;</p>'
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}
