import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api/client';
import { data } from '../../api/data';
import { projectKeys, useProject } from '../../api/projects';
import { useMay } from '../../auth/permissions';
import { Field } from '../../ui/field';
import { fieldError } from '../../ui/problem';
import { ErrorMessage } from '../../ui/status';

/** The project's branding on its hosted pages (name, logo, colour); changing it is a project setting. */
export function BrandingPanel({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const project = useProject(pid);
  const queryClient = useQueryClient();
  const may = useMay();
  const canEdit = may('PATCH', '/api/v1/projects/:pid');
  const [name, setName] = useState('');
  const [logoUrl, setLogoUrl] = useState('');
  const [color, setColor] = useState('');
  const [saved, setSaved] = useState(false);
  const branding = project.data?.branding;
  useEffect(() => {
    if (branding) {
      setName(branding.name ?? '');
      setLogoUrl(branding.logoUrl ?? '');
      setColor(branding.color ?? '');
    }
  }, [branding]);
  const save = useMutation({
    mutationFn: () =>
      data(
        api.PATCH('/api/v1/projects/{pid}', {
          params: { path: { pid } },
          body: { branding: { name: name.trim() || null, logoUrl: logoUrl.trim() || null, color: color.trim() || null } },
        }),
      ),
    onSuccess: (p) => {
      setSaved(true);
      queryClient.setQueryData(projectKeys.one(pid), p);
      void queryClient.invalidateQueries({ queryKey: ['projects', pid, 'form-preview'] });
    },
  });
  return (
    <section className="panel" aria-labelledby="branding-title">
      <h2 id="branding-title">{t('forms.branding')}</h2>
      <p className="hint">{t(canEdit ? 'forms.brandingHint' : 'forms.brandingReadOnly')}</p>
      <form
        onSubmit={(event) => {
          event.preventDefault();
          setSaved(false);
          save.mutate();
        }}
      >
        <div className="param-row">
          <Field label={t('forms.brandName')} value={name} onChange={(e) => setName(e.target.value)} readOnly={!canEdit} error={fieldError(save.error, 'name')} />
          <Field label={t('forms.logoUrl')} type="url" value={logoUrl} onChange={(e) => setLogoUrl(e.target.value)} readOnly={!canEdit} error={fieldError(save.error, 'logoUrl')} />
          <Field label={t('forms.color')} value={color} onChange={(e) => setColor(e.target.value)} readOnly={!canEdit} placeholder="#1d4ed8" error={fieldError(save.error, 'color')} />
        </div>
        {canEdit ? (
          <div className="actions">
            <button type="submit" disabled={save.isPending}>
              {t('forms.saveBranding')}
            </button>
            <span role="status" className="success">
              {saved ? t('mk.saved') : ''}
            </span>
          </div>
        ) : null}
        {save.error && !fieldError(save.error, 'name') && !fieldError(save.error, 'logoUrl') && !fieldError(save.error, 'color') ? <ErrorMessage error={save.error} /> : null}
      </form>
    </section>
  );
}
