import { type FormEvent, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { type Project, useProject } from '../../api/projects';
import { useSaveTrackingSettings } from '../../api/tracking-settings';
import { useMay } from '../../auth/permissions';
import { Field } from '../../ui/field';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';

type Mode = 'opt-out' | 'opt-in';

interface Draft {
  enabled: boolean;
  mode: Mode;
  anonymizePastOnRefusal: boolean;
  retentionDays: string;
  honorGpc: boolean;
  minAnonymousGroup: string;
  optOutFooter: boolean;
}

const draftOf = (project: Project): Draft => ({
  enabled: project.tracking.enabled,
  mode: project.tracking.mode,
  anonymizePastOnRefusal: project.tracking.anonymizePastOnRefusal,
  retentionDays: String(project.retentionDays),
  honorGpc: project.tracking.honorGpc,
  minAnonymousGroup: String(project.tracking.minAnonymousGroup),
  optOutFooter: project.tracking.optOutFooter,
});

const isWholeNumber = (text: string): boolean => /^\s*\d+\s*$/.test(text);

/** `/projects/{pid}/settings/tracking`: "Behavioral tracking and data protection" (SPEC §13). */
export default function TrackingSettingsPage() {
  const { t } = useTranslation();
  usePageTitle(t('trackingSettings.title'));
  const { pid = '' } = useParams();
  const project = useProject(pid);
  const may = useMay();
  const canChange = may('PATCH', '/api/v1/projects/:pid');
  return (
    <>
      <h1>{t('trackingSettings.title')}</h1>
      <p className="hint">{t('trackingSettings.intro')}</p>
      {project.isPending ? <Loading /> : null}
      <ErrorMessage error={project.error} />
      {project.data ? canChange ? <SettingsForm project={project.data} /> : <SettingsFacts project={project.data} /> : null}
    </>
  );
}

function SettingsForm({ project }: { project: Project }) {
  const { t } = useTranslation();
  const save = useSaveTrackingSettings(project.id);
  const [draft, setDraft] = useState<Draft>(() => draftOf(project));
  const [changes, setChanges] = useState<string[] | null>(null);
  // Checked here before asking the server; the server's own limits come back as problem+json on the same fields.
  const [local, setLocal] = useState<{ retentionDays?: string; minAnonymousGroup?: string }>({});
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setChanges(null);
  };
  const ids = { enabled: useId(), optOut: useId(), optIn: useId(), anonymize: useId(), gpc: useId(), footer: useId() };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const wrong = {
      ...(isWholeNumber(draft.retentionDays) ? {} : { retentionDays: t('trackingSettings.wholeNumber') }),
      ...(isWholeNumber(draft.minAnonymousGroup) ? {} : { minAnonymousGroup: t('trackingSettings.wholeNumber') }),
    };
    setLocal(wrong);
    if (Object.keys(wrong).length > 0) return;
    const before = project;
    save.mutate(
      {
        tracking: {
          enabled: draft.enabled,
          mode: draft.mode,
          anonymizePastOnRefusal: draft.anonymizePastOnRefusal,
          honorGpc: draft.honorGpc,
          minAnonymousGroup: Number(draft.minAnonymousGroup),
          optOutFooter: draft.optOutFooter,
        },
        retentionDays: Number(draft.retentionDays),
      },
      {
        onSuccess: (after) => {
          setChanges(describeChanges(before, after, t));
          setDraft(draftOf(after));
        },
      },
    );
  };
  const error = save.error;
  const fieldErrors = ['tracking.minAnonymousGroup', 'retentionDays', 'tracking.mode', 'tracking.enabled', 'tracking.anonymizePastOnRefusal'];
  const named = fieldErrors.some((f) => fieldError(error, f));

  return (
    <form onSubmit={submit} noValidate className="panel-form">
      <section className="panel" aria-labelledby={`${ids.enabled}-h`}>
        <h2 id={`${ids.enabled}-h`}>{t('trackingSettings.module')}</h2>
        <div className="choice">
          <input type="checkbox" id={ids.enabled} checked={draft.enabled} onChange={(e) => set('enabled', e.target.checked)} aria-describedby={`${ids.enabled}-hint`} />
          <div>
            <label htmlFor={ids.enabled}>{t('trackingSettings.enable')}</label>
            <span className="hint" id={`${ids.enabled}-hint`}>
              {t('trackingSettings.enableHint')}
            </span>
          </div>
        </div>
        <fieldset>
          <legend>{t('trackingSettings.mode')}</legend>
          <div className="choice">
            <input type="radio" id={ids.optOut} name="mode" value="opt-out" checked={draft.mode === 'opt-out'} onChange={() => set('mode', 'opt-out')} aria-describedby={`${ids.optOut}-hint`} />
            <div>
              <label htmlFor={ids.optOut}>{t('trackingSettings.optOut')}</label>
              <span className="hint" id={`${ids.optOut}-hint`}>
                {t('trackingSettings.optOutHint')}
              </span>
            </div>
          </div>
          <div className="choice">
            <input type="radio" id={ids.optIn} name="mode" value="opt-in" checked={draft.mode === 'opt-in'} onChange={() => set('mode', 'opt-in')} aria-describedby={`${ids.optIn}-hint`} />
            <div>
              <label htmlFor={ids.optIn}>{t('trackingSettings.optIn')}</label>
              <span className="hint" id={`${ids.optIn}-hint`}>
                {t('trackingSettings.optInHint')}
              </span>
            </div>
          </div>
          {fieldError(error, 'tracking.mode') ? <p className="field-error">{fieldError(error, 'tracking.mode')}</p> : null}
        </fieldset>
      </section>

      <section className="panel" aria-labelledby={`${ids.anonymize}-h`}>
        <h2 id={`${ids.anonymize}-h`}>{t('trackingSettings.dataProtection')}</h2>
        <div className="choice">
          <input
            type="checkbox"
            id={ids.anonymize}
            checked={draft.anonymizePastOnRefusal}
            onChange={(e) => set('anonymizePastOnRefusal', e.target.checked)}
            aria-describedby={`${ids.anonymize}-hint`}
          />
          <div>
            <label htmlFor={ids.anonymize}>{t('trackingSettings.anonymize')}</label>
            <span className="hint" id={`${ids.anonymize}-hint`}>
              {t('trackingSettings.anonymizeHint')}
            </span>
          </div>
        </div>
        <Field
          label={t('trackingSettings.retention')}
          type="number"
          inputMode="numeric"
          min={0}
          max={36500}
          value={draft.retentionDays}
          onChange={(e) => set('retentionDays', e.target.value)}
          hint={t('trackingSettings.retentionHint')}
          error={local.retentionDays ?? fieldError(error, 'retentionDays')}
        />
        <div className="choice">
          <input type="checkbox" id={ids.gpc} checked={draft.honorGpc} onChange={(e) => set('honorGpc', e.target.checked)} aria-describedby={`${ids.gpc}-hint`} />
          <div>
            <label htmlFor={ids.gpc}>{t('trackingSettings.honorGpc')}</label>
            <span className="hint" id={`${ids.gpc}-hint`}>
              {t('trackingSettings.honorGpcHint')}
            </span>
          </div>
        </div>
        <div className="choice">
          <input type="checkbox" id={ids.footer} checked={draft.optOutFooter} onChange={(e) => set('optOutFooter', e.target.checked)} aria-describedby={`${ids.footer}-hint`} />
          <div>
            <label htmlFor={ids.footer}>{t('trackingSettings.footer')}</label>
            <span className="hint" id={`${ids.footer}-hint`}>
              {t('trackingSettings.footerHint')}
            </span>
          </div>
        </div>
        <Field
          label={t('trackingSettings.minGroup')}
          type="number"
          inputMode="numeric"
          min={0}
          max={1000}
          value={draft.minAnonymousGroup}
          onChange={(e) => set('minAnonymousGroup', e.target.value)}
          hint={t('trackingSettings.minGroupHint')}
          error={local.minAnonymousGroup ?? fieldError(error, 'tracking.minAnonymousGroup')}
        />
      </section>

      {error && !named ? <ErrorMessage error={error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={save.isPending}>
          {t('trackingSettings.save')}
        </button>
        {save.isPending ? <Loading /> : null}
      </div>
      <div role="status" className="saved">
        {changes ? (
          changes.length === 0 ? (
            <p className="success">{t('trackingSettings.noChange')}</p>
          ) : (
            <>
              <p className="success">{t('trackingSettings.saved')}</p>
              <ul className="changes">
                {changes.map((line) => (
                  <li key={line}>{line}</li>
                ))}
              </ul>
            </>
          )
        ) : null}
      </div>
    </form>
  );
}

/** The settings as text, for the roles that may read them but not change them. */
function SettingsFacts({ project }: { project: Project }) {
  const { t } = useTranslation();
  const yes = (value: boolean) => (value ? t('trackingSettings.yes') : t('trackingSettings.no'));
  return (
    <section className="panel">
      <p>{t('trackingSettings.readOnly')}</p>
      <dl className="facts">
        <dt>{t('trackingSettings.factEnabled')}</dt>
        <dd>{yes(project.tracking.enabled)}</dd>
        <dt>{t('trackingSettings.mode')}</dt>
        <dd>{t(project.tracking.mode === 'opt-in' ? 'trackingSettings.optIn' : 'trackingSettings.optOut')}</dd>
        <dt>{t('trackingSettings.factAnonymize')}</dt>
        <dd>{yes(project.tracking.anonymizePastOnRefusal)}</dd>
        <dt>{t('trackingSettings.retention')}</dt>
        <dd>{project.retentionDays > 0 ? project.retentionDays : t('trackingSettings.retentionNone')}</dd>
        <dt>{t('trackingSettings.factGpc')}</dt>
        <dd>{yes(project.tracking.honorGpc)}</dd>
        <dt>{t('trackingSettings.minGroup')}</dt>
        <dd>{project.tracking.minAnonymousGroup}</dd>
      </dl>
    </section>
  );
}

/** "Mode: Opt-out → Opt-in", one line per setting that changed. */
function describeChanges(before: Project, after: Project, t: (key: string, options?: Record<string, unknown>) => string): string[] {
  const yes = (value: boolean) => (value ? t('trackingSettings.on') : t('trackingSettings.off'));
  const mode = (value: string) => t(value === 'opt-in' ? 'trackingSettings.optIn' : 'trackingSettings.optOut');
  const rows: [string, string, string][] = [
    [t('trackingSettings.factEnabled'), yes(before.tracking.enabled), yes(after.tracking.enabled)],
    [t('trackingSettings.mode'), mode(before.tracking.mode), mode(after.tracking.mode)],
    [t('trackingSettings.factAnonymize'), yes(before.tracking.anonymizePastOnRefusal), yes(after.tracking.anonymizePastOnRefusal)],
    [t('trackingSettings.retention'), String(before.retentionDays), String(after.retentionDays)],
    [t('trackingSettings.factGpc'), yes(before.tracking.honorGpc), yes(after.tracking.honorGpc)],
    [t('trackingSettings.factFooter'), yes(before.tracking.optOutFooter), yes(after.tracking.optOutFooter)],
    [t('trackingSettings.minGroup'), String(before.tracking.minAnonymousGroup), String(after.tracking.minAnonymousGroup)],
  ];
  return rows.filter(([, a, b]) => a !== b).map(([name, a, b]) => t('trackingSettings.change', { name, before: a, after: b }));
}
