import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { ApiError } from '../../api/client';
import { type FormKind, type FormPreviewRequest, type FormTexts, type HostedForm, type NewForm, useFormPreview, useSaveForm } from '../../api/forms';
import { useMay } from '../../auth/permissions';
import { CheckboxField, TextAreaField } from '../../ui/controls';
import { CopyButton } from '../../ui/copy-button';
import { Field } from '../../ui/field';
import { fieldError } from '../../ui/problem';
import { ErrorMessage } from '../../ui/status';
import { useDebounced } from '../../ui/use-debounced';
import { FRAME_SANDBOX } from '../messages/message-preview';

type Lang = 'en' | 'fr';
const LANGS: readonly Lang[] = ['en', 'fr'];

/** The texts each kind of page shows (src/domain/form.ts), in the order they appear. */
const TEXT_KEYS: Record<FormKind, readonly string[]> = {
  subscription: ['title', 'intro', 'submit', 'consentLabel', 'thanksTitle', 'thanksText'],
  profile: ['title', 'intro', 'submit', 'consentLabel', 'thanksTitle', 'thanksText'],
  'tracking-optout': ['title', 'intro', 'statusAccepted', 'statusRefused', 'statusUnanswered', 'refuseButton', 'acceptButton', 'refusedTitle', 'refusedText', 'acceptedTitle', 'acceptedText', 'changeMind'],
  unsubscribe: ['title', 'intro', 'submit', 'thanksTitle', 'thanksText', 'alreadyUnsubscribed', 'optOutOffer', 'optOutLink'],
};
const LONG = new Set(['intro', 'consentLabel', 'thanksText', 'statusAccepted', 'statusRefused', 'statusUnanswered', 'refusedText', 'acceptedText', 'alreadyUnsubscribed', 'optOutOffer']);
/** The merge tag that leads each contact to their own page of a kind. */
export const PAGE_TAG: Record<FormKind, string> = { subscription: '', profile: '{{profileUrl}}', 'tracking-optout': '{{trackingOptOutUrl}}', unsubscribe: '{{unsubscribeUrl}}' };
const hasFields = (kind: FormKind) => kind === 'subscription' || kind === 'profile';

interface State {
  name: string;
  fields: string;
  trackingConsentField: boolean;
  offerTrackingOptOut: boolean;
  texts: Record<Lang, Record<string, string>>;
}

function stateOf(kind: FormKind, form: HostedForm | undefined, defaultName: string): State {
  const texts: Record<Lang, Record<string, string>> = { en: {}, fr: {} };
  for (const lang of LANGS) for (const [k, v] of Object.entries(form?.texts?.[lang] ?? {})) if (typeof v === 'string') texts[lang][k] = v;
  return {
    name: form?.name ?? defaultName,
    fields: (form?.fields ?? []).filter((f) => f !== 'email').join(', '),
    // A saved form without the option shows what its page does (src/domain/form.ts); a new one starts with it.
    trackingConsentField: form ? (form.trackingConsentField ?? kind === 'profile') : hasFields(kind),
    offerTrackingOptOut: form ? (form.offerTrackingOptOut ?? false) : kind === 'unsubscribe',
    texts,
  };
}

function specOf(kind: FormKind, s: State): Omit<NewForm, 'kind' | 'name'> {
  const texts: FormTexts = {};
  for (const lang of LANGS) {
    const entries = Object.entries(s.texts[lang]).filter(([, v]) => v.trim() !== '');
    if (entries.length > 0) texts[lang] = Object.fromEntries(entries);
  }
  const fields = s.fields
    .split(/[\s,]+/)
    .map((f) => f.trim())
    .filter(Boolean);
  return {
    ...(hasFields(kind) ? { fields: ['email', ...fields], trackingConsentField: s.trackingConsentField } : {}),
    ...(kind === 'unsubscribe' ? { offerTrackingOptOut: s.offerTrackingOptOut } : {}),
    texts,
  };
}

/**
 * One hosted form: its options and texts per language, saved through the API, with a live preview in
 * English and in French of exactly the page the form serves (the server renders it).
 */
export function FormEditor({ pid, kind, form, headingLevel = 2 }: { pid: string; kind: FormKind; form: HostedForm | undefined; headingLevel?: 2 | 3 }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const may = useMay();
  const save = useSaveForm(pid, form?.id);
  const defaultName = t(`forms.defaultName.${kind}`);
  const [state, setState] = useState<State>(() => stateOf(kind, form, defaultName));
  const [loaded, setLoaded] = useState(form?.updatedAt);
  const [saved, setSaved] = useState(false);
  const canEdit = may(form ? 'PATCH' : 'POST', form ? '/api/v1/projects/:pid/forms/:fid' : '/api/v1/projects/:pid/forms');

  useEffect(() => {
    if (form && loaded !== form.updatedAt) {
      setState(stateOf(kind, form, defaultName));
      setLoaded(form.updatedAt);
    }
  }, [form, loaded, kind, defaultName]);

  const spec = useMemo(() => specOf(kind, state), [kind, state]);
  const settled = useDebounced(spec, 400);
  const base: Omit<FormPreviewRequest, 'lang'> = form ? { formId: form.id, ...settled } : { kind, ...settled };
  const en = useFormPreview(pid, { ...base, lang: 'en' });
  const fr = useFormPreview(pid, { ...base, lang: 'fr' });
  const problem = save.error ?? en.error ?? fr.error;
  const err = (field: string) => (problem instanceof ApiError ? problem.errors.find((e) => e.field === field || e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`))?.reason : undefined);
  const set = (patch: Partial<State>) => {
    setSaved(false);
    setState((s) => ({ ...s, ...patch }));
  };
  const setText = (lang: Lang, key: string, value: string) => set({ texts: { ...state.texts, [lang]: { ...state.texts[lang], [key]: value } } });
  const H = headingLevel === 2 ? 'h2' : 'h3';
  const Sub = headingLevel === 2 ? 'h3' : 'h4';
  const idBase = `form-${kind}-${form?.id ?? 'new'}`;

  return (
    <div className="form-editor">
      <form
        aria-labelledby={`${idBase}-title`}
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate(
            { kind, name: state.name.trim(), ...spec },
            {
              onSuccess: (f) => {
                setSaved(true);
                if (!form && kind === 'subscription') navigate(`/projects/${pid}/forms/${f.id}`, { replace: true });
              },
            },
          );
        }}
      >
        <H id={`${idBase}-title`} className="visually-hidden">
          {t('forms.settingsOf', { name: state.name || defaultName })}
        </H>
        <Field label={t('forms.name')} value={state.name} onChange={(e) => set({ name: e.target.value })} error={fieldError(save.error, 'name')} required readOnly={!canEdit} />
        {hasFields(kind) ? (
          <>
            <Field
              label={t('forms.fields')}
              value={state.fields}
              onChange={(e) => set({ fields: e.target.value })}
              hint={t('forms.fieldsHint')}
              error={err('fields')}
              readOnly={!canEdit}
            />
            <CheckboxField
              label={t('forms.trackingConsentField')}
              hint={t('forms.trackingConsentFieldHint')}
              checked={state.trackingConsentField}
              disabled={!canEdit}
              onChange={(e) => set({ trackingConsentField: e.target.checked })}
              error={err('trackingConsentField')}
            />
          </>
        ) : null}
        {kind === 'unsubscribe' ? (
          <CheckboxField
            label={t('forms.offerTrackingOptOut')}
            hint={t('forms.offerTrackingOptOutHint')}
            checked={state.offerTrackingOptOut}
            disabled={!canEdit}
            onChange={(e) => set({ offerTrackingOptOut: e.target.checked })}
            error={err('offerTrackingOptOut')}
          />
        ) : null}
        <details className="texts">
          <summary>{t('forms.texts')}</summary>
          <p className="hint">{t('forms.textsHint')}</p>
          <div className="texts-grid">
            {LANGS.map((lang) => (
              <fieldset key={lang} lang={lang}>
                <legend>{t(`forms.lang.${lang}`)}</legend>
                {TEXT_KEYS[kind].map((key) =>
                  LONG.has(key) ? (
                    <TextAreaField
                      key={key}
                      label={t(`forms.text.${key}`)}
                      rows={3}
                      value={state.texts[lang][key] ?? ''}
                      onChange={(e) => setText(lang, key, e.target.value)}
                      error={err(`texts.${lang}.${key}`)}
                      readOnly={!canEdit}
                    />
                  ) : (
                    <Field
                      key={key}
                      label={t(`forms.text.${key}`)}
                      value={state.texts[lang][key] ?? ''}
                      onChange={(e) => setText(lang, key, e.target.value)}
                      error={err(`texts.${lang}.${key}`)}
                      readOnly={!canEdit}
                    />
                  ),
                )}
              </fieldset>
            ))}
          </div>
        </details>
        {save.error && !(save.error instanceof ApiError && save.error.errors.length > 0) ? <ErrorMessage error={save.error} /> : null}
        {canEdit ? (
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {form ? t('mk.save') : kind === 'subscription' ? t('forms.create') : t('forms.saveCustom')}
            </button>
            <span role="status" className="success">
              {saved ? t('mk.saved') : ''}
            </span>
          </div>
        ) : null}
      </form>
      {form?.url ? (
        <div className="public-url">
          <Sub>{t('forms.publicUrl')}</Sub>
          <p className="mono">{form.url}</p>
          <CopyButton text={form.url} label={t('forms.copyUrl')} />
        </div>
      ) : null}
      {!hasFields(kind) || kind === 'profile' ? <p className="hint">{t('forms.perContact', { tag: PAGE_TAG[kind] })}</p> : null}
      <Sub>{t('forms.preview')}</Sub>
      <div className="form-previews">
        {(
          [
            ['en', en],
            ['fr', fr],
          ] as const
        ).map(([lang, preview]) => (
          <figure key={lang} className="form-preview" aria-busy={preview.isFetching}>
            <figcaption>{t(`forms.previewIn.${lang}`)}</figcaption>
            {preview.data ? <iframe title={t(`forms.previewIn.${lang}`)} sandbox={FRAME_SANDBOX} srcDoc={preview.data.html} className="form-frame" /> : null}
            {preview.error && !(preview.error instanceof ApiError && preview.error.errors.length > 0) ? <ErrorMessage error={preview.error} /> : null}
          </figure>
        ))}
      </div>
    </div>
  );
}
