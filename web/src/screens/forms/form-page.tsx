import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { useDeleteForm, useForm } from '../../api/forms';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { ErrorMessage, Loading } from '../../ui/status';
import { FormEditor } from './form-editor';
import '../../ui/marketing.css';

/** One form (a new one is a subscription form: the other kinds are edited on the forms page). */
export default function FormPage() {
  const { t } = useTranslation();
  const { pid = '', fid } = useParams();
  const navigate = useNavigate();
  const may = useMay();
  const form = useForm(pid, fid);
  const remove = useDeleteForm(pid);
  const title = fid ? (form.data?.name ?? t('forms.title')) : t('forms.newSubscription');
  usePageTitle(title);
  if (fid && form.isPending) return <Loading />;
  if (fid && form.error) return <ErrorMessage error={form.error} />;
  const kind = form.data?.kind ?? 'subscription';
  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/forms`}>{t('forms.title')}</Link>
      </p>
      <div className="page-head">
        <h1>{title}</h1>
        <span className="badge">{t(`forms.kinds.${kind}`)}</span>
      </div>
      <section className="panel">
        <FormEditor key={fid ?? 'new'} pid={pid} kind={kind} form={form.data} />
        {fid && may('DELETE', '/api/v1/projects/:pid/forms/:fid') ? (
          <div className="actions">
            <button
              type="button"
              className="danger"
              onClick={() => {
                if (window.confirm(t('forms.confirmDelete', { name: form.data?.name ?? '' }))) remove.mutate(fid, { onSuccess: () => navigate(`/projects/${pid}/forms`) });
              }}
            >
              {t('mk.delete')}
            </button>
          </div>
        ) : null}
        <ErrorMessage error={remove.error} />
      </section>
    </>
  );
}
