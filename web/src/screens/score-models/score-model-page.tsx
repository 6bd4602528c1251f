import { useEffect, useMemo, useState } from 'react';
import { Figures } from '../../ui/figures';
import { useTranslation } from 'react-i18next';
import { Link, useLocation, useNavigate, useParams } from 'react-router';
import { ApiError } from '../../api/client';
import { type Distribution, useDistribution, useSaveScoreModel, useScoreModel } from '../../api/score-models';
import { useMay } from '../../auth/permissions';
import { Chart } from '../../ui/chart';
import { CheckboxField } from '../../ui/controls';
import { Field } from '../../ui/field';
import { usePageTitle } from '../../ui/page-title';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import { useFormat } from '../../ui/use-format';
import { CriteriaBuilder } from '../groups/criteria-builder';
import { type CNode, fromCriteria, newBehavior, newGroup, toCriteria } from '../groups/criteria-model';
import '../../ui/marketing.css';

interface Rule {
  key: number;
  criteria: CNode;
  points: string;
  perOccurrence: boolean;
  max: string;
  withinDays: string;
}

let ruleKey = 0;
const newRule = (): Rule => ({ key: ++ruleKey, criteria: newGroup('all', [newBehavior('opened')]), points: '5', perOccurrence: false, max: '', withinDays: '' });

function rulesOf(stored: unknown): Rule[] {
  if (!Array.isArray(stored)) return [];
  return stored.map((r: Record<string, unknown>) => ({
    key: ++ruleKey,
    criteria: fromCriteria(r.criteria),
    points: r.points === undefined ? '' : String(r.points),
    perOccurrence: r.perOccurrence === true,
    max: r.max === undefined ? '' : String(r.max),
    withinDays: r.withinDays === undefined ? '' : String(r.withinDays),
  }));
}

const num = (s: string): number | string => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : s);

function toRules(rules: Rule[]): unknown[] {
  return rules.map((r) => ({
    criteria: toCriteria(r.criteria),
    points: num(r.points),
    ...(r.perOccurrence ? { perOccurrence: true } : {}),
    ...(r.max.trim() !== '' ? { max: num(r.max) } : {}),
    ...(r.withinDays.trim() !== '' ? { withinDays: num(r.withinDays) } : {}),
  }));
}

/** A score model: its rules (criteria and points) and how the contacts spread over the scores. */
export default function ScoreModelPage() {
  const { t } = useTranslation();
  const { pid = '', mid } = useParams();
  const navigate = useNavigate();
  const location = useLocation();
  const may = useMay();
  const model = useScoreModel(pid, mid);
  const save = useSaveScoreModel(pid, mid);
  const distribution = useDistribution(pid, mid);
  const [name, setName] = useState('');
  const [rules, setRules] = useState<Rule[]>(() => [newRule()]);
  const [loaded, setLoaded] = useState<string | undefined>();
  const [saved, setSaved] = useState(Boolean((location.state as { created?: boolean } | null)?.created));
  const canEdit = may(mid ? 'PATCH' : 'POST', mid ? '/api/v1/projects/:pid/score-models/:mid' : '/api/v1/projects/:pid/score-models');

  useEffect(() => {
    if (model.data && loaded !== model.data.id) {
      setName(model.data.name);
      setRules(rulesOf(model.data.rules));
      setLoaded(model.data.id);
    }
  }, [model.data, loaded]);

  const title = mid ? (model.data?.name ?? t('scoring.title')) : t('scoring.new');
  usePageTitle(title);
  const problems = save.error instanceof ApiError ? save.error.errors : [];
  const err = (field: string) => problems.find((p) => p.field === field)?.reason;
  const setRule = (i: number, patch: Partial<Rule>) => {
    setSaved(false);
    setRules((list) => list.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  };

  if (mid && model.isPending) return <Loading />;
  if (mid && model.error) return <ErrorMessage error={model.error} />;

  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/score-models`}>{t('scoring.title')}</Link>
      </p>
      <h1>{title}</h1>
      {mid && distribution.data ? <DistributionChart distribution={distribution.data} /> : null}
      <ErrorMessage error={distribution.error} />
      <form
        className="panel"
        aria-labelledby="rules-title"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate(
            { name: name.trim(), rules: toRules(rules) },
            {
              onSuccess: (m) => {
                setSaved(true);
                if (!mid) navigate(`/projects/${pid}/score-models/${m.id}`, { replace: true, state: { created: true } });
              },
            },
          );
        }}
      >
        <h2 id="rules-title">{t('scoring.rulesTitle')}</h2>
        <Field label={t('scoring.name')} value={name} onChange={(e) => {
            setSaved(false);
            setName(e.target.value);
          }} error={fieldError(save.error, 'name')} required readOnly={!canEdit} />
        <p className="hint">{t('scoring.rulesHint')}</p>
        <ol className="rules">
          {rules.map((rule, i) => (
            <li key={rule.key} className="rule">
              <h3>{t('scoring.ruleN', { n: i + 1 })}</h3>
              <div className="param-row">
                <Field label={t('scoring.points')} type="number" value={rule.points} onChange={(e) => setRule(i, { points: e.target.value })} error={err(`rules[${i}].points`)} readOnly={!canEdit} />
                <Field label={t('scoring.max')} type="number" min={1} value={rule.max} onChange={(e) => setRule(i, { max: e.target.value })} error={err(`rules[${i}].max`)} readOnly={!canEdit} />
                <Field
                  label={t('scoring.withinDays')}
                  type="number"
                  min={1}
                  value={rule.withinDays}
                  onChange={(e) => setRule(i, { withinDays: e.target.value })}
                  error={err(`rules[${i}].withinDays`)}
                  readOnly={!canEdit}
                />
              </div>
              <CheckboxField
                label={t('scoring.perOccurrence')}
                hint={t('scoring.perOccurrenceHint')}
                checked={rule.perOccurrence}
                disabled={!canEdit}
                onChange={(e) => setRule(i, { perOccurrence: e.target.checked })}
                error={err(`rules[${i}].perOccurrence`)}
              />
              <CriteriaBuilder root={rule.criteria} onChange={(c) => setRule(i, { criteria: c })} problems={problems} path={`rules[${i}].criteria`} readOnly={!canEdit} allowScore={false} />
              {canEdit ? (
                <button type="button" className="small" onClick={() => setRules((list) => list.filter((_, j) => j !== i))}>
                  {t('scoring.removeRule', { n: i + 1 })}
                </button>
              ) : null}
            </li>
          ))}
        </ol>
        {canEdit ? (
          <button type="button" onClick={() => setRules((list) => [...list, newRule()])}>
            {t('scoring.addRule')}
          </button>
        ) : null}
        <p className="crit-note">{t('scoring.untrackedNote')}</p>
        {save.error && problems.length === 0 ? <ErrorMessage error={save.error} /> : null}
        {save.error && problems.length > 0 && !problems.some((p) => p.field.startsWith('rules[')) ? <ErrorMessage error={save.error} /> : null}
        {canEdit ? (
          <div className="actions">
            <button type="submit" className="primary" disabled={save.isPending}>
              {mid ? t('mk.save') : t('scoring.create')}
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

function DistributionChart({ distribution }: { distribution: Distribution }) {
  const { t } = useTranslation();
  const format = useFormat();
  const chart = useMemo(() => {
    const labels = distribution.buckets.map((b) => `${format.decimal(b.from)}–${format.decimal(b.to)}`);
    return {
      option: {
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
        grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
        xAxis: { type: 'category', data: labels, name: t('scoring.score') },
        yAxis: { type: 'value', minInterval: 1, name: t('scoring.contacts') },
        series: [{ name: t('scoring.contacts'), type: 'bar', data: distribution.buckets.map((b) => b.count) }],
      },
      table: { columns: [t('scoring.score'), t('scoring.contacts')], rows: distribution.buckets.map((b, i) => [labels[i] ?? '', b.count]) },
    };
  }, [distribution, format, t]);
  return (
    <section className="panel" aria-labelledby="distribution-title">
      <h2 id="distribution-title">{t('scoring.distribution')}</h2>
      <Figures
        size="small"
        items={[
          { label: t('scoring.contacts'), value: format.number(distribution.contacts) },
          { label: t('scoring.min'), value: format.decimal(distribution.min) },
          { label: t('scoring.mean'), value: format.decimal(distribution.mean) },
          { label: t('scoring.maxScore'), value: format.decimal(distribution.max) },
        ]}
      />
      <Chart label={t('scoring.chart')} option={chart.option} table={chart.table} />
    </section>
  );
}
