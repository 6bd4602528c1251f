import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import type { FieldProblem } from '../../api/client';
import { useForms } from '../../api/forms';
import { useMessages } from '../../api/messages';
import { useScoreModels } from '../../api/score-models';
import { useSendings } from '../../api/sendings';
import { CheckboxField, SelectField } from '../../ui/controls';
import { Field } from '../../ui/field';
import {
  BEHAVIOR_PARTS,
  BEHAVIORS,
  type Behavior,
  type BehaviorNode,
  type CNode,
  type Combine,
  ENUMS,
  FIELD_OPS,
  type FieldKind,
  type FieldNode,
  type FieldOp,
  fieldKind,
  type GroupNode,
  innerPath,
  newBehavior,
  newField,
  newGroup,
  type ValueType,
} from './criteria-model';

interface Shared {
  problems: readonly FieldProblem[];
  readOnly: boolean;
  allowScore: boolean;
}

/**
 * The whole criteria tree of SPEC §11: all / any groups, negation of any node, field clauses with every
 * operator, behavioural clauses with every option; each behavioural clause says that untracked contacts
 * never match it. Problems the API reports are shown beside the node their path names.
 */
export function CriteriaBuilder({
  root,
  onChange,
  problems = [],
  path = 'criteria',
  readOnly = false,
  allowScore = true,
}: {
  root: CNode;
  onChange: (root: CNode) => void;
  problems?: readonly FieldProblem[];
  path?: string;
  readOnly?: boolean;
  allowScore?: boolean;
}) {
  return (
    <div className="criteria">
      <NodeView node={root} path={path} onChange={onChange} onRemove={null} shared={{ problems, readOnly, allowScore }} />
    </div>
  );
}

function NodeView({ node, path, onChange, onRemove, shared }: { node: CNode; path: string; onChange: (n: CNode) => void; onRemove: (() => void) | null; shared: Shared }) {
  if (node.kind === 'group') return <GroupView node={node} path={path} onChange={onChange} onRemove={onRemove} shared={shared} />;
  if (node.kind === 'field') return <FieldView node={node} path={path} onChange={onChange} onRemove={onRemove} shared={shared} />;
  return <BehaviorView node={node} path={path} onChange={onChange} onRemove={onRemove} shared={shared} />;
}

/** The reasons the API gave for this node (and, for a clause, its parts). */
function Problems({ problems, path, clause }: { problems: readonly FieldProblem[]; path: string; clause: boolean }) {
  const mine = problems.filter((p) => p.field === path || (clause ? p.field.startsWith(`${path}.`) : p.field === `${path}.all` || p.field === `${path}.any`));
  if (mine.length === 0) return null;
  return (
    <ul className="field-error crit-problems">
      {mine.map((p) => (
        <li key={`${p.field}:${p.reason}`}>{p.reason}</li>
      ))}
    </ul>
  );
}

function RemoveButton({ onRemove, label }: { onRemove: (() => void) | null; label: string }) {
  const { t } = useTranslation();
  if (!onRemove) return null;
  return (
    <button type="button" className="small" onClick={onRemove} aria-label={label}>
      {t('criteria.remove')}
    </button>
  );
}

function GroupView({ node, path, onChange, onRemove, shared }: { node: GroupNode; path: string; onChange: (n: CNode) => void; onRemove: (() => void) | null; shared: Shared }) {
  const { t } = useTranslation();
  const inner = innerPath(node, path);
  const setChild = (i: number, child: CNode) => onChange({ ...node, children: node.children.map((c, j) => (j === i ? child : c)) });
  const removeChild = (i: number) => onChange({ ...node, children: node.children.filter((_, j) => j !== i) });
  const add = (child: CNode) => onChange({ ...node, children: [...node.children, child] });
  return (
    <fieldset className={`crit-group ${node.negated ? 'negated' : ''}`}>
      <legend>{onRemove ? t('criteria.subgroup') : t('criteria.conditions')}</legend>
      <div className="crit-row">
        <SelectField label={t('criteria.combine')} value={node.combine} disabled={shared.readOnly} onChange={(e) => onChange({ ...node, combine: e.target.value as Combine })}>
          <option value="all">{t('criteria.all')}</option>
          <option value="any">{t('criteria.any')}</option>
        </SelectField>
        <CheckboxField label={t('criteria.notGroup')} checked={node.negated} disabled={shared.readOnly} onChange={(e) => onChange({ ...node, negated: e.target.checked })} />
        <RemoveButton onRemove={shared.readOnly ? null : onRemove} label={t('criteria.removeGroup')} />
      </div>
      <Problems problems={shared.problems} path={inner} clause={false} />
      {node.children.length === 0 ? <p className="hint">{t(node.combine === 'all' ? 'criteria.emptyAll' : 'criteria.emptyAny')}</p> : null}
      <ol className="crit-children">
        {node.children.map((child, i) => (
          <li key={child.id}>
            {i > 0 ? <span className="crit-joiner">{t(node.combine === 'all' ? 'criteria.and' : 'criteria.or')}</span> : null}
            <NodeView node={child} path={`${inner}.${node.combine}[${i}]`} onChange={(c) => setChild(i, c)} onRemove={() => removeChild(i)} shared={shared} />
          </li>
        ))}
      </ol>
      {!shared.readOnly ? (
        <div className="actions crit-add">
          <button type="button" className="small" onClick={() => add(newField())}>
            {t('criteria.addField')}
          </button>
          <button type="button" className="small" onClick={() => add(newBehavior())}>
            {t('criteria.addBehavior')}
          </button>
          <button type="button" className="small" onClick={() => add(newGroup(node.combine === 'all' ? 'any' : 'all'))}>
            {t('criteria.addGroup')}
          </button>
        </div>
      ) : null}
    </fieldset>
  );
}

const kindOptions = (allowScore: boolean): FieldKind[] => (allowScore ? ['email', 'status', 'trackingStatus', 'custom', 'score'] : ['email', 'status', 'trackingStatus', 'custom']);

function FieldView({ node, path, onChange, onRemove, shared }: { node: FieldNode; path: string; onChange: (n: CNode) => void; onRemove: (() => void) | null; shared: Shared }) {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const models = useScoreModels(pid);
  const inner = innerPath(node, path);
  const kind = fieldKind(node.field);
  const ops = FIELD_OPS[kind];
  const set = (patch: Partial<FieldNode>) => onChange({ ...node, ...patch });
  const ro = shared.readOnly;
  const setKind = (next: FieldKind) => {
    const field = next === 'custom' ? 'fields.' : next === 'score' ? `score.${models.data?.[0]?.id ?? ''}` : next;
    const op = FIELD_OPS[next].includes(node.op) ? node.op : (FIELD_OPS[next][0] as FieldOp);
    set({ field, op, value: next === 'status' ? 'active' : next === 'trackingStatus' ? 'accepted' : '', valueType: next === 'score' ? 'number' : 'text' });
  };
  const enumValues = kind === 'status' || kind === 'trackingStatus' ? ENUMS[kind] : null;
  const chosen = node.value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  return (
    <fieldset className={`crit-clause field-clause ${node.negated ? 'negated' : ''}`}>
      <legend className="visually-hidden">{t('criteria.fieldClause')}</legend>
      <div className="crit-row">
        <SelectField label={t('criteria.field')} value={kind} disabled={ro} onChange={(e) => setKind(e.target.value as FieldKind)}>
          {kindOptions(shared.allowScore || kind === 'score').map((k) => (
            <option key={k} value={k}>
              {t(`criteria.fields.${k}`)}
            </option>
          ))}
        </SelectField>
        {kind === 'custom' ? (
          <Field label={t('criteria.customName')} value={node.field.slice('fields.'.length)} readOnly={ro} onChange={(e) => set({ field: `fields.${e.target.value.trim()}` })} placeholder="firstName" />
        ) : null}
        {kind === 'score' ? (
          <SelectField label={t('criteria.scoreModel')} value={node.field.slice('score.'.length)} disabled={ro} onChange={(e) => set({ field: `score.${e.target.value}` })}>
            <option value="">{t('criteria.chooseModel')}</option>
            {models.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        <SelectField label={t('criteria.operator')} value={node.op} disabled={ro} onChange={(e) => set({ op: e.target.value as FieldOp })}>
          {ops.map((op) => (
            <option key={op} value={op}>
              {t(`criteria.ops.${op}`)}
            </option>
          ))}
        </SelectField>
        <FieldValue node={node} enumValues={enumValues} chosen={chosen} set={set} readOnly={ro} />
        {kind === 'custom' && (node.op === 'eq' || node.op === 'neq' || node.op === 'in') ? (
          <SelectField label={t('criteria.valueType')} value={node.valueType} disabled={ro} onChange={(e) => set({ valueType: e.target.value as ValueType })}>
            <option value="text">{t('criteria.types.text')}</option>
            <option value="number">{t('criteria.types.number')}</option>
            <option value="boolean">{t('criteria.types.boolean')}</option>
          </SelectField>
        ) : null}
      </div>
      <div className="crit-row">
        <CheckboxField label={t('criteria.notField')} checked={node.negated} disabled={ro} onChange={(e) => set({ negated: e.target.checked })} />
        <RemoveButton onRemove={ro ? null : onRemove} label={t('criteria.removeClause')} />
      </div>
      <Problems problems={shared.problems} path={inner} clause />
    </fieldset>
  );
}

function FieldValue({
  node,
  enumValues,
  chosen,
  set,
  readOnly,
}: {
  node: FieldNode;
  enumValues: readonly string[] | null;
  chosen: string[];
  set: (patch: Partial<FieldNode>) => void;
  readOnly: boolean;
}) {
  const { t } = useTranslation();
  const label = t('criteria.value');
  if (node.op === 'exists') {
    return (
      <SelectField label={label} value={node.value === 'false' ? 'false' : 'true'} disabled={readOnly} onChange={(e) => set({ value: e.target.value === 'false' ? 'false' : '' })}>
        <option value="true">{t('criteria.hasValue')}</option>
        <option value="false">{t('criteria.hasNoValue')}</option>
      </SelectField>
    );
  }
  if (enumValues && node.op !== 'in') {
    return (
      <SelectField label={label} value={node.value} disabled={readOnly} onChange={(e) => set({ value: e.target.value })}>
        {enumValues.map((v) => (
          <option key={v} value={v}>
            {t(`criteria.enum.${v}`)}
          </option>
        ))}
      </SelectField>
    );
  }
  if (enumValues) {
    return (
      <fieldset className="inline-choices crit-enum">
        <legend>{label}</legend>
        {enumValues.map((v) => (
          <CheckboxField
            key={v}
            label={t(`criteria.enum.${v}`)}
            checked={chosen.includes(v)}
            disabled={readOnly}
            onChange={(e) => set({ value: (e.target.checked ? [...chosen, v] : chosen.filter((c) => c !== v)).join(', ') })}
          />
        ))}
      </fieldset>
    );
  }
  const type = node.op === 'before' || node.op === 'after' ? 'date' : node.op === 'gt' || node.op === 'lt' || node.op === 'withinDays' ? 'number' : 'text';
  return (
    <Field
      label={node.op === 'withinDays' ? t('criteria.days') : label}
      type={type}
      value={node.value}
      readOnly={readOnly}
      onChange={(e) => set({ value: e.target.value })}
      hint={node.op === 'in' ? t('criteria.inHint') : undefined}
      min={node.op === 'withinDays' ? 1 : undefined}
    />
  );
}

function BehaviorView({ node, path, onChange, onRemove, shared }: { node: BehaviorNode; path: string; onChange: (n: CNode) => void; onRemove: (() => void) | null; shared: Shared }) {
  const { t } = useTranslation();
  const { pid = '' } = useParams();
  const parts = BEHAVIOR_PARTS[node.behavior];
  const messages = useMessages(pid);
  const sendings = useSendings(pid);
  const forms = useForms(pid);
  const inner = innerPath(node, path);
  const ro = shared.readOnly;
  const set = (patch: Partial<BehaviorNode>) => onChange({ ...node, ...patch });
  const messageName = (mid: string) => messages.data?.find((m) => m.id === mid)?.name ?? mid;
  return (
    <fieldset className={`crit-clause behavior-clause ${node.negated ? 'negated' : ''}`}>
      <legend className="visually-hidden">{t('criteria.behaviorClause')}</legend>
      <div className="crit-row">
        <CheckboxField label={t('criteria.notBehavior')} checked={node.negated} disabled={ro} onChange={(e) => set({ negated: e.target.checked })} />
        <SelectField label={t('criteria.behavior')} value={node.behavior} disabled={ro} onChange={(e) => set({ behavior: e.target.value as Behavior })}>
          {BEHAVIORS.map((b) => (
            <option key={b} value={b}>
              {t(`criteria.behaviors.${b}`)}
            </option>
          ))}
        </SelectField>
        {parts.includes('messageId') ? (
          <SelectField label={t('criteria.message')} value={node.messageId} disabled={ro} onChange={(e) => set({ messageId: e.target.value })}>
            <option value="">{t('criteria.anyMessage')}</option>
            {messages.data?.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        {parts.includes('sendingId') ? (
          <SelectField label={t('criteria.sending')} value={node.sendingId} disabled={ro} onChange={(e) => set({ sendingId: e.target.value })}>
            <option value="">{t('criteria.anySending')}</option>
            {sendings.data?.map((s) => (
              <option key={s.id} value={s.id}>
                {t('criteria.sendingOf', { name: messageName(s.messageId), id: s.id })}
              </option>
            ))}
          </SelectField>
        ) : null}
        {parts.includes('formId') ? (
          <SelectField label={t('criteria.form')} value={node.formId} disabled={ro} onChange={(e) => set({ formId: e.target.value })}>
            <option value="">{t('criteria.anyForm')}</option>
            {forms.data?.map((f) => (
              <option key={f.id} value={f.id}>
                {f.name}
              </option>
            ))}
          </SelectField>
        ) : null}
        {parts.includes('linkUrl') ? <Field label={t('criteria.linkUrl')} value={node.linkUrl} readOnly={ro} onChange={(e) => set({ linkUrl: e.target.value })} placeholder="https://" /> : null}
        {parts.includes('eventName') ? <Field label={t('criteria.eventName')} value={node.eventName} readOnly={ro} onChange={(e) => set({ eventName: e.target.value })} /> : null}
        <Field label={t('criteria.withinDays')} type="number" min={1} value={node.withinDays} readOnly={ro} onChange={(e) => set({ withinDays: e.target.value })} hint={t('criteria.withinDaysHint')} />
        <Field label={t('criteria.minCount')} type="number" min={1} value={node.minCount} readOnly={ro} onChange={(e) => set({ minCount: e.target.value })} />
      </div>
      <div className="crit-row">
        {parts.includes('humanOnly') ? <CheckboxField label={t('criteria.humanOnly')} checked={node.humanOnly} disabled={ro} onChange={(e) => set({ humanOnly: e.target.checked })} /> : null}
        <RemoveButton onRemove={ro ? null : onRemove} label={t('criteria.removeClause')} />
      </div>
      <p className="crit-note">{t('criteria.untrackedNote')}</p>
      <Problems problems={shared.problems} path={inner} clause />
    </fieldset>
  );
}
