import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { type FormKind, type HostedForm, useForms } from '../../api/forms';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { BrandingPanel } from './branding-panel';
import { FormEditor, PAGE_TAG } from './form-editor';
import '../../ui/marketing.css';

/** The form a per-contact page uses: the newest of its kind (src/store/forms.ts latestFormOfKind). */
const current = (forms: HostedForm[], kind: FormKind) => forms.filter((f) => f.kind === kind).sort((a, b) => Number(b.id) - Number(a.id))[0];

/**
 * The hosted forms, grouped as SPEC §3 has them: subscription and profile forms (with the
 * tracking-consent field), the behavioral tracking opt-out form, the unsubscribe form (with the offer
 * of the tracking opt-out), each with its live preview in English and French; and the branding.
 */
export default function FormsPage() {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  usePageTitle(t('forms.title'));
  const forms = useForms(pid);
  const may = useMay();
  if (forms.isPending) return <Loading />;
  if (forms.error) return <ErrorMessage error={forms.error} />;
  const subscriptions = forms.data.filter((f) => f.kind === 'subscription');
  return (
    <>
      <h1>{t('forms.title')}</h1>
      <p className="hint">{t('forms.intro')}</p>
      <section className="panel" aria-labelledby="subscription-title">
        <div className="page-head">
          <h2 id="subscription-title">{t('forms.subscriptionForms')}</h2>
          {may('POST', '/api/v1/projects/:pid/forms') ? (
            <Link className="button primary" to={`/projects/${pid}/forms/new`}>
              {t('forms.newSubscription')}
            </Link>
          ) : null}
        </div>
        <p className="hint">{t('forms.subscriptionIntro')}</p>
        {subscriptions.length === 0 ? <p className="empty">{t('forms.noSubscription')}</p> : null}
        {subscriptions.length > 0 ? (
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">{t('forms.subscriptionForms')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('forms.name')}</th>
                  <th scope="col">{t('forms.trackingConsentColumn')}</th>
                  <th scope="col">{t('forms.publicUrl')}</th>
                </tr>
              </thead>
              <tbody>
                {subscriptions.map((f) => (
                  <tr key={f.id}>
                    <td>
                      <Link to={`/projects/${pid}/forms/${f.id}`}>{f.name}</Link>
                    </td>
                    <td>{f.trackingConsentField ? t('injection.yes') : t('injection.no')}</td>
                    <td className="mono">{f.url}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
      {(['profile', 'tracking-optout', 'unsubscribe'] as const).map((kind) => {
        const form = current(forms.data, kind);
        return (
          <section key={kind} className="panel" aria-labelledby={`${kind}-title`}>
            <h2 id={`${kind}-title`}>{t(`forms.kinds.${kind}`)}</h2>
            <p className="hint">{t(`forms.kindIntro.${kind}`, { tag: PAGE_TAG[kind] })}</p>
            {!form ? <p className="note">{t('forms.usingDefault')}</p> : null}
            <FormEditor pid={pid} kind={kind} form={form} headingLevel={3} />
          </section>
        );
      })}
      <BrandingPanel pid={pid} />
    </>
  );
}
