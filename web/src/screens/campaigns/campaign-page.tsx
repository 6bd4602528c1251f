import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { type CampaignStats, useCampaign, useCampaignAction, useCampaignStats, useSaveCampaign } from '../../api/campaigns';
import { ApiError, type FieldProblem } from '../../api/client';
import { useGroups } from '../../api/groups';
import { useMessages } from '../../api/messages';
import { useMay } from '../../auth/permissions';
import { RadioGroup, SelectField } from '../../ui/controls';
import { Field } from '../../ui/field';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import { Figures } from '../../ui/figures';
import { useFormat } from '../../ui/use-format';
import { CriteriaBuilder } from '../groups/criteria-builder';
import { hasBehavior } from '../groups/criteria-model';
import { changeType, fromNodes, replaceStep, type Step, type StepType, starterFlow, toNodes, type Unit, withoutStep } from './campaign-model';
import '../../ui/marketing.css';

interface Ctx {
  editable: boolean;
  stats: CampaignStats | undefined;
  problems: readonly FieldProblem[];
  paths: Map<string, string>;
  onChange: (id: string, step: Step) => void;
}

/** A campaign: its workflow drawn as its steps, editable while a draft, with per-step counts once it runs. */
export default function CampaignPage() {
  const { t } = useTranslation();
  const { pid = '', id } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const may = useMay();
  const format = useFormat();
  const campaign = useCampaign(pid, id);
  const running = campaign.data?.status === 'running';
  const stats = useCampaignStats(pid, id, running);
  const save = useSaveCampaign(pid, id);
  const action = useCampaignAction(pid, id ?? '');
  const groups = useGroups(pid);
  const [name, setName] = useState('');
  const [entry, setEntry] = useState<'group' | 'api'>('group');
  const [groupId, setGroupId] = useState('');
  const [flow, setFlow] = useState<Step>(() => starterFlow());
  const [loaded, setLoaded] = useState<string | undefined>();
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(Boolean((location.state as { created?: boolean } | null)?.created));

  useEffect(() => {
    const c = campaign.data;
    if (c && loaded !== `${c.id}:${c.updatedAt}` && !dirty) {
      setName(c.name);
      const e = c.entry as { groupId?: string; api?: boolean };
      setEntry(e.api ? 'api' : 'group');
      setGroupId(e.groupId ?? '');
      setFlow(fromNodes(c.start, c.nodes));
      setLoaded(`${c.id}:${c.updatedAt}`);
    }
  }, [campaign.data, loaded, dirty]);

  const graph = useMemo(() => toNodes(flow), [flow]);
  const status = campaign.data?.status ?? 'draft';
  const mayChange = may(id ? 'PATCH' : 'POST', id ? '/api/v1/projects/:pid/campaigns/:cid' : '/api/v1/projects/:pid/campaigns');
  const editable = mayChange && status === 'draft';
  const problems = save.error instanceof ApiError ? save.error.errors : [];
  const title = id ? (campaign.data?.name ?? t('campaigns.title')) : t('campaigns.new');
  usePageTitle(title);

  if (id && campaign.isPending) return <Loading />;
  if (id && campaign.error) return <ErrorMessage error={campaign.error} />;

  const touch = () => {
    setDirty(true);
    setSaved(false);
  };
  const body = () => ({ name: name.trim(), entry: entry === 'api' ? { api: true } : { groupId }, start: graph.start, nodes: graph.nodes });
  const ctx: Ctx = {
    editable,
    stats: stats.data,
    problems,
    paths: graph.paths,
    onChange: (stepId, step) => {
      touch();
      setFlow((f) => replaceStep(f, stepId, step));
    },
  };

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/campaigns`}>{t('campaigns.title')}</Link>
      </p>
      <div className="page-head">
        <h1>{title}</h1>
        <span className={`badge status-${status}`}>{t(`campaigns.status.${status}`)}</span>
      </div>
      {id && stats.data ? (
        <Figures
          size="small"
          className="panel"
          label={t('campaigns.figures')}
          items={[
            { label: t('campaigns.entered'), value: format.number(stats.data.entered) },
            { label: t('campaigns.active'), value: format.number(stats.data.active) },
            { label: t('campaigns.completed'), value: format.number(stats.data.completed) },
            { label: t('campaigns.leftUntrackedTotal'), value: format.number(stats.data.leftUntracked) },
          ]}
        />
      ) : null}
      {id && may('POST', '/api/v1/projects/:pid/campaigns/:cid/start') ? (
        <div className="actions campaign-actions">
          {status === 'draft' ? (
            <button type="button" className="primary" disabled={dirty || action.isPending} onClick={() => action.mutate('start')}>
              {t('campaigns.start')}
            </button>
          ) : null}
          {status === 'running' ? (
            <button type="button" disabled={action.isPending} onClick={() => action.mutate('pause')}>
              {t('campaigns.pause')}
            </button>
          ) : null}
          {status === 'paused' ? (
            <button type="button" className="primary" disabled={action.isPending} onClick={() => action.mutate('start')}>
              {t('campaigns.resume')}
            </button>
          ) : null}
          {dirty && status === 'draft' ? <span className="hint">{t('campaigns.saveFirst')}</span> : null}
        </div>
      ) : null}
      <ErrorMessage error={action.error} />
      <form
        className="panel"
        aria-labelledby="campaign-form-title"
        onSubmit={(event) => {
          event.preventDefault();
          const payload = status === 'draft' ? body() : { name: name.trim() };
          save.mutate(payload, {
            onSuccess: (c) => {
              setDirty(false);
              setSaved(true);
              if (!id) navigate(`/projects/${pid}/campaigns/${c.id}`, { replace: true, state: { created: true } });
            },
          });
        }}
      >
        <h2 id="campaign-form-title">{t('campaigns.definition')}</h2>
        <Field label={t('campaigns.name')} value={name} onChange={(e) => {
            touch();
            setName(e.target.value);
          }} error={fieldError(save.error, 'name')} required readOnly={!mayChange} />
        <RadioGroup
          legend={t('campaigns.entry')}
          name="entry"
          inline
          value={entry}
          disabled={!editable}
          onChange={(v) => {
            touch();
            setEntry(v);
          }}
          options={[
            { value: 'group', label: t('campaigns.entryGroup') },
            { value: 'api', label: t('campaigns.entryApi') },
          ]}
        />
        {entry === 'group' ? (
          <SelectField label={t('campaigns.group')} value={groupId} disabled={!editable} onChange={(e) => {
            touch();
            setGroupId(e.target.value);
          }} error={fieldError(save.error, 'entry')}>
            <option value="">{t('messages.send.noGroup')}</option>
            {groups.data?.map((g) => (
              <option key={g.id} value={g.id}>
                {g.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <h3>{t('campaigns.workflow')}</h3>
        {status !== 'draft' ? <p className="hint">{t('campaigns.lockedFlow')}</p> : null}
        <div className="flow">
          <p className="flow-start">{t('campaigns.startPoint')}</p>
          <StepView step={flow} ctx={ctx} />
        </div>
        {save.error && !(save.error instanceof ApiError && save.error.errors.length > 0) ? <ErrorMessage error={save.error} /> : null}
        {problems.length > 0 ? (
          <ul className="field-error">
            {problems
              .filter((p) => !/^nodes\[\d+\]\.criteria/.test(p.field))
              .map((p) => (
                <li key={`${p.field}${p.reason}`}>
                  {p.field}: {p.reason}
                </li>
              ))}
          </ul>
        ) : null}
        {mayChange ? (
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {id ? t('mk.save') : t('campaigns.create')}
            </button>
            <span role="status" className="success">
              {saved ? t('mk.saved') : ''}
            </span>
          </div>
        ) : null}
      </form>
    </>
  );
}

function StepView({ step, ctx }: { step: Step; ctx: Ctx }) {
  const { t } = useTranslation();
  if (step.type === 'goto') {
    return (
      <div className="step goto">
        <p>{t('campaigns.goto', { id: step.target })}</p>
      </div>
    );
  }
  return (
    <>
      <StepCard step={step} ctx={ctx} />
      {step.type === 'send' || step.type === 'wait' ? (
        <>
          <div className="flow-arrow" aria-hidden="true" />
          <StepView step={step.next} ctx={ctx} />
        </>
      ) : null}
      {step.type === 'condition' ? (
        <div className="branches">
          <div className="branch yes">
            <p className="branch-label">{t('campaigns.yes')}</p>
            <StepView step={step.yes} ctx={ctx} />
          </div>
          <div className="branch no">
            <p className="branch-label">{t('campaigns.no')}</p>
            <StepView step={step.no} ctx={ctx} />
          </div>
        </div>
      ) : null}
    </>
  );
}

function StepCard({ step, ctx }: { step: Exclude<Step, { type: 'goto' }>; ctx: Ctx }) {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const messages = useMessages(pid);
  const format = useFormat();
  const counts = ctx.stats?.nodes[step.id];
  const path = ctx.paths.get(step.id) ?? '';
  const behavioural = step.type === 'condition' && hasBehavior(step.criteria);
  const label = t(`campaigns.types.${step.type}`);
  const own = ctx.problems.filter((p) => p.field.startsWith(`${path}.`) && !p.field.startsWith(`${path}.criteria`));
  return (
    <section className={`step step-${step.type}`} aria-label={t('campaigns.stepLabel', { type: label, id: step.id })}>
      <div className="step-head">
        <span className={`step-type ${step.type}`}>{label}</span>
        {ctx.stats ? (
          <span className="step-counts">
            {t('campaigns.reached', { count: format.number(counts?.reached ?? 0) })}
            {behavioural ? (
              <>
                {' · '}
                <span className="left-untracked">{t('campaigns.leftUntracked', { count: format.number(counts?.leftUntracked ?? 0) })}</span>
              </>
            ) : null}
          </span>
        ) : null}
      </div>
      {ctx.editable ? (
        <div className="crit-row">
          <SelectField label={t('campaigns.stepType')} value={step.type} onChange={(e) => ctx.onChange(step.id, changeType(step, e.target.value as StepType))}>
            {(['send', 'wait', 'condition', 'end'] as const).map((type) => (
              <option key={type} value={type}>
                {t(`campaigns.types.${type}`)}
              </option>
            ))}
          </SelectField>
          {step.type !== 'end' ? (
            <button type="button" className="small" onClick={() => ctx.onChange(step.id, withoutStep(step))}>
              {t('campaigns.removeStep')}
            </button>
          ) : null}
        </div>
      ) : null}
      {step.type === 'send' ? (
        ctx.editable ? (
          <SelectField
            label={t('campaigns.message')}
            value={step.messageId}
            onChange={(e) => ctx.onChange(step.id, { ...step, messageId: e.target.value })}
            error={ctx.problems.find((p) => p.field === `${path}.messageId`)?.reason}
          >
            <option value="">{t('campaigns.chooseMessage')}</option>
            {messages.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </SelectField>
        ) : (
          <p>{t('campaigns.sends', { name: messages.data?.find((m) => m.id === step.messageId)?.name ?? step.messageId })}</p>
        )
      ) : null}
      {step.type === 'wait' ? (
        ctx.editable ? (
          <div className="crit-row">
            <Field label={t('campaigns.waitFor')} type="number" min={1} value={step.amount} onChange={(e) => ctx.onChange(step.id, { ...step, amount: e.target.value })} />
            <SelectField label={t('campaigns.unit')} value={step.unit} onChange={(e) => ctx.onChange(step.id, { ...step, unit: e.target.value as Unit })}>
              {(['M', 'H', 'D', 'W'] as const).map((u) => (
                <option key={u} value={u}>
                  {t(`campaigns.units.${u}`)}
                </option>
              ))}
            </SelectField>
          </div>
        ) : (
          <p>{t('campaigns.waits', { amount: step.amount, unit: t(`campaigns.units.${step.unit}`) })}</p>
        )
      ) : null}
      {step.type === 'condition' ? (
        <>
          <CriteriaBuilder root={step.criteria} onChange={(c) => ctx.onChange(step.id, { ...step, criteria: c })} problems={ctx.problems} path={`${path}.criteria`} readOnly={!ctx.editable} />
          {behavioural ? <p className="crit-note">{t('campaigns.behaviouralNote')}</p> : null}
        </>
      ) : null}
      {step.type === 'end' ? <p className="hint">{t('campaigns.endText')}</p> : null}
      {own.length > 0 ? (
        <ul className="field-error">
          {own.map((p) => (
            <li key={p.field + p.reason}>{p.reason}</li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
