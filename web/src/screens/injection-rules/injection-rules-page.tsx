import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { usePickableContacts } from '../../api/contact-picker';
import {
  type ExampleRequest,
  type InjectionRule,
  type RuleInput,
  useDeleteInjectionRule,
  useInjectionExample,
  useInjectionRule,
  useInjectionRules,
  useSaveInjectionRule,
} from '../../api/injection-rules';
import { useMay } from '../../auth/permissions';
import { CheckboxField, SelectField, TextAreaField } from '../../ui/controls';
import { Field } from '../../ui/field';
import { ListPage } from '../../ui/list-page';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import { useDebounced } from '../../ui/use-debounced';
import '../../ui/marketing.css';

const CHANNELS = ['email', 'sms', 'push'] as const;
type Channel = (typeof CHANNELS)[number];

interface Form {
  name: string;
  domains: string;
  channels: Channel[];
  communicationTypes: string;
  params: { key: number; name: string; value: string }[];
  autoApply: boolean;
  onlyTrackedContacts: boolean;
}

let paramKey = 0;
const param = (name = '', value = '') => ({ key: ++paramKey, name, value });

const EMPTY: Form = {
  name: '',
  domains: '',
  channels: [],
  communicationTypes: '',
  params: [param('utm_source', 'trackguard'), param('utm_medium', 'email'), param('utm_campaign', '{{message.name}}')],
  autoApply: true,
  onlyTrackedContacts: true,
};

const list = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

function formOf(rule: InjectionRule): Form {
  return {
    name: rule.name,
    domains: rule.domains.join('\n'),
    channels: (rule.channels ?? []).filter((c): c is Channel => (CHANNELS as readonly string[]).includes(c)),
    communicationTypes: (rule.communicationTypes ?? []).join(', '),
    params: rule.params.map((p) => param(p.name, p.value)),
    autoApply: rule.autoApply ?? true,
    onlyTrackedContacts: rule.onlyTrackedContacts ?? true,
  };
}

function ruleOf(form: Form): RuleInput {
  const types = list(form.communicationTypes);
  return {
    name: form.name.trim(),
    domains: list(form.domains),
    ...(form.channels.length > 0 ? { channels: form.channels } : {}),
    ...(types.length > 0 ? { communicationTypes: types } : {}),
    params: form.params.map((p) => ({ name: p.name.trim(), value: p.value })),
    autoApply: form.autoApply,
    onlyTrackedContacts: form.onlyTrackedContacts,
  };
}

/** Injection rules: the list, and the editor of one with a live example of a tracked and an anonymous click. */
export default function InjectionRulesPage() {
  const { t } = useTranslation();
  const { pid = '', rid } = useParams();
  const location = useLocation();
  const editing = rid !== undefined || location.pathname.endsWith('/injection-rules/new');
  usePageTitle(t('injection.title'));
  return (
    <>
      {editing ? (
        <p className="breadcrumb">
          <Link to={`/projects/${pid}/injection-rules`}>{t('injection.title')}</Link>
        </p>
      ) : null}
      {editing ? <RuleEditor pid={pid} rid={rid} /> : <RuleList pid={pid} />}
    </>
  );
}

function RuleList({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const may = useMay();
  return (
    <ListPage
      title={t('injection.title')}
      intro={t('injection.intro')}
      empty={t('injection.none')}
      create={{ allowed: may('POST', '/api/v1/projects/:pid/injection-rules'), to: `/projects/${pid}/injection-rules/new`, label: t('injection.new') }}
      list={useInjectionRules(pid)}
      columns={[
        { header: t('injection.name') },
        { header: t('injection.domains') },
        { header: t('injection.params') },
        { header: t('injection.autoApply') },
        { header: t('injection.onlyTracked') },
      ]}
      row={(r) => (
        <tr key={r.id}>
          <td>
            <Link to={`/projects/${pid}/injection-rules/${r.id}`}>{r.name}</Link>
          </td>
          <td>{r.domains.join(', ')}</td>
          <td className="mono">{r.params.map((p) => p.name).join(', ')}</td>
          <td>{r.autoApply ? t('injection.yes') : t('injection.no')}</td>
          <td>{r.onlyTrackedContacts ? t('injection.yes') : t('injection.no')}</td>
        </tr>
      )}
    />
  );
}

function RuleEditor({ pid, rid }: { pid: string; rid: string | undefined }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const may = useMay();
  const rule = useInjectionRule(pid, rid);
  const save = useSaveInjectionRule(pid, rid);
  const remove = useDeleteInjectionRule(pid);
  const [form, setForm] = useState<Form>(EMPTY);
  const [loaded, setLoaded] = useState<string | undefined>();
  const [saved, setSaved] = useState(Boolean((location.state as { created?: boolean } | null)?.created));
  const [exampleUrl, setExampleUrl] = useState('https://shop.example.com/sale?ref=spring');
  const [contactId, setContactId] = useState('');
  const contacts = usePickableContacts(pid, '');
  const canEdit = may(rid ? 'PATCH' : 'POST', rid ? '/api/v1/projects/:pid/injection-rules/:rid' : '/api/v1/projects/:pid/injection-rules');

  useEffect(() => {
    if (rule.data && loaded !== rule.data.id) {
      setForm(formOf(rule.data));
      setLoaded(rule.data.id);
    }
  }, [rule.data, loaded]);

  const draft = useMemo(() => ruleOf(form), [form]);
  const request = useDebounced<ExampleRequest | null>(
    draft.domains.length > 0 && exampleUrl.trim() !== '' ? { rule: { ...draft, name: draft.name || 'draft' }, url: exampleUrl.trim(), ...(contactId ? { contactId } : {}) } : null,
    400,
  );
  const example = useInjectionExample(pid, request);
  const problem = save.error ?? example.error;
  const err = (field: string) => (problem instanceof ApiError ? problem.errors.find((e) => e.field === field)?.reason : undefined);
  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setSaved(false);
    setForm((f) => ({ ...f, [key]: value }));
  };
  const setParam = (i: number, patch: Partial<{ name: string; value: string }>) => set('params', form.params.map((p, j) => (j === i ? { ...p, ...patch } : p)));
  const domainError = problem instanceof ApiError ? problem.errors.find((e) => e.field.startsWith('domains'))?.reason : undefined;

  if (rid && rule.isPending) return <Loading />;
  if (rid && rule.error) return <ErrorMessage error={rule.error} />;
  const title = rid ? (rule.data?.name ?? t('injection.title')) : t('injection.new');

  return (
    <>
      <h1>{title}</h1>
      <div className="editor-layout">
        <form
          className="panel"
          aria-labelledby="rule-form-title"
          onSubmit={(event) => {
            event.preventDefault();
            save.mutate(draft, {
              onSuccess: (r) => {
                setSaved(true);
                if (!rid) navigate(`/projects/${pid}/injection-rules/${r.id}`, { replace: true, state: { created: true } });
              },
            });
          }}
        >
          <h2 id="rule-form-title">{t('injection.rule')}</h2>
          <Field label={t('injection.name')} value={form.name} onChange={(e) => set('name', e.target.value)} error={fieldError(save.error, 'name')} required readOnly={!canEdit} />
          <TextAreaField
            label={t('injection.domains')}
            rows={3}
            value={form.domains}
            onChange={(e) => set('domains', e.target.value)}
            error={domainError}
            hint={t('injection.domainsHint')}
            readOnly={!canEdit}
          />
          <fieldset className="inline-choices">
            <legend>{t('injection.channels')}</legend>
            {CHANNELS.map((c) => (
              <CheckboxField
                key={c}
                label={t(`messages.channels.${c}`)}
                checked={form.channels.includes(c)}
                disabled={!canEdit}
                onChange={(e) => set('channels', e.target.checked ? [...form.channels, c] : form.channels.filter((x) => x !== c))}
              />
            ))}
            <p className="hint">{t('injection.channelsHint')}</p>
          </fieldset>
          <Field
            label={t('injection.communicationTypes')}
            value={form.communicationTypes}
            onChange={(e) => set('communicationTypes', e.target.value)}
            hint={t('injection.communicationTypesHint')}
            error={err('communicationTypes')}
            readOnly={!canEdit}
          />
          <fieldset>
            <legend>{t('injection.params')}</legend>
            <p className="hint">{t('injection.paramsHint', { tags: '{{message.name}}, {{sending.id}}, {{contact.id}}, {{contact.email}}, {{contact.fields.X}}, {{trackingToken}}' })}</p>
            {form.params.map((p, i) => (
              <div className="param-row" key={p.key}>
                <Field label={t('injection.paramName', { n: i + 1 })} value={p.name} onChange={(e) => setParam(i, { name: e.target.value })} error={err(`params[${i}].name`)} readOnly={!canEdit} />
                <Field
                  label={t('injection.paramValue', { n: i + 1 })}
                  value={p.value}
                  onChange={(e) => setParam(i, { value: e.target.value })}
                  error={err(`params[${i}].value`)}
                  readOnly={!canEdit}
                />
                {canEdit ? (
                  <button type="button" className="small" onClick={() => set('params', form.params.filter((_, j) => j !== i))} aria-label={t('injection.removeParam', { n: i + 1 })}>
                    {t('criteria.remove')}
                  </button>
                ) : null}
              </div>
            ))}
            {canEdit ? (
              <button type="button" className="small" onClick={() => set('params', [...form.params, param()])}>
                {t('injection.addParam')}
              </button>
            ) : null}
          </fieldset>
          <CheckboxField label={t('injection.autoApplyLabel')} hint={t('injection.autoApplyHint')} checked={form.autoApply} disabled={!canEdit} onChange={(e) => set('autoApply', e.target.checked)} />
          <CheckboxField
            label={t('injection.onlyTracked')}
            hint={t('injection.onlyTrackedHint')}
            checked={form.onlyTrackedContacts}
            disabled={!canEdit}
            onChange={(e) => set('onlyTrackedContacts', e.target.checked)}
          />
          {save.error && !(save.error instanceof ApiError && save.error.errors.length > 0) ? <ErrorMessage error={save.error} /> : null}
          {canEdit ? (
            <div className="actions">
              <button type="submit" className="primary" disabled={save.isPending}>
                {rid ? t('mk.save') : t('injection.create')}
              </button>
              {rid && may('DELETE', '/api/v1/projects/:pid/injection-rules/:rid') ? (
                <button
                  type="button"
                  className="danger"
                  onClick={() => {
                    if (window.confirm(t('injection.confirmDelete', { name: form.name }))) remove.mutate(rid, { onSuccess: () => navigate(`/projects/${pid}/injection-rules`) });
                  }}
                >
                  {t('mk.delete')}
                </button>
              ) : null}
              <span role="status" className="success">
                {saved ? t('mk.saved') : ''}
              </span>
            </div>
          ) : null}
          <ErrorMessage error={remove.error} />
        </form>
        <section className="panel" aria-labelledby="example-title" aria-busy={example.isFetching}>
          <h2 id="example-title">{t('injection.example')}</h2>
          <Field label={t('injection.exampleUrl')} type="url" value={exampleUrl} onChange={(e) => setExampleUrl(e.target.value)} error={err('url')} />
          <SelectField label={t('injection.exampleContact')} value={contactId} onChange={(e) => setContactId(e.target.value)}>
            <option value="">{t('injection.sampleContact')}</option>
            {contacts.data
              ?.filter((c) => c.tracked)
              .map((c) => (
                <option key={c.id} value={c.id}>
                  {c.email ?? c.id}
                </option>
              ))}
          </SelectField>
          {draft.domains.length === 0 ? <p className="hint">{t('injection.exampleNeedsDomain')}</p> : null}
          {example.data ? (
            <div aria-live="polite">
              {!example.data.matches ? <p className="note untracked">{t('injection.noMatch')}</p> : null}
              <dl className="facts examples">
                <dt>{t('injection.trackedClick')}</dt>
                <dd className="mono">{example.data.tracked}</dd>
                <dt>{t('injection.anonymousClick')}</dt>
                <dd className="mono">{example.data.anonymous}</dd>
              </dl>
              {example.data.withheldFromAnonymous.length > 0 ? (
                <p className="hint">{t('injection.withheld', { params: example.data.withheldFromAnonymous.join(', ') })}</p>
              ) : null}
              <p className="hint">{t('injection.exampleNote')}</p>
            </div>
          ) : null}
          {example.error && !(example.error instanceof ApiError && example.error.errors.length > 0) ? <ErrorMessage error={example.error} /> : null}
        </section>
      </div>
    </>
  );
}
