import { type DragEvent, type FormEvent, useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import type { Delimiter } from '../../../../src/domain/import-mapping';
import { IMPORT_TYPES, type ImportType, useStartImport } from '../../api/imports';
import { useMay } from '../../auth/permissions';
import { usePageTitle } from '../../ui/page-title';
import { TableScroll } from '../../ui/table-scroll';
import { fieldError } from '../../ui/problem';
import { ErrorMessage, Loading } from '../../ui/status';
import '../consent.css';
import { type ColumnTarget, CORE_TARGETS, type CsvPreview, defaultMapping, mappingParameter, mappingProblem, readPreview, unmappable } from './csv-preview';

const DELIMITERS: { value: Delimiter; key: string }[] = [
  { value: ',', key: 'imports.delimiterComma' },
  { value: ';', key: 'imports.delimiterSemicolon' },
  { value: '\t', key: 'imports.delimiterTab' },
];

/** `/projects/{pid}/imports/new`: choose a CSV file, read its first rows, map its columns, choose the type, start. */
export default function ImportNewPage() {
  const { t } = useTranslation();
  usePageTitle(t('imports.newTitle'));
  const { pid = '' } = useParams();
  const may = useMay();
  return (
    <>
      <p className="breadcrumb">
        <Link to={`/projects/${pid}/imports`}>{t('imports.back')}</Link>
      </p>
      <h1>{t('imports.newTitle')}</h1>
      {may('POST', '/api/v1/projects/:pid/imports') ? <ImportForm pid={pid} /> : <p>{t('imports.notAllowed')}</p>}
    </>
  );
}

function ImportForm({ pid }: { pid: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const start = useStartImport(pid);
  const [file, setFile] = useState<File | null>(null);
  const [delimiter, setDelimiter] = useState<Delimiter | ''>('');
  const [preview, setPreview] = useState<CsvPreview | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [targets, setTargets] = useState<ColumnTarget[]>([]);
  const [type, setType] = useState<ImportType>('upsert');
  const [over, setOver] = useState(false);
  const [checked, setChecked] = useState(false);
  const ids = { file: useId(), delimiter: useId(), type: useId(), map: useId() };

  // Reading the chosen file's first rows again whenever the file or the delimiter changes.
  useEffect(() => {
    if (!file) return;
    let current = true;
    readPreview(file, delimiter).then(
      (read) => {
        if (!current) return;
        setPreview(read);
        setPreviewError(read.header.length === 0 ? t('imports.emptyFile') : null);
        setTargets(defaultMapping(read.header));
      },
      () => current && setPreviewError(t('imports.unreadable')),
    );
    return () => {
      current = false;
    };
  }, [file, delimiter, t]);

  const choose = (chosen: File | undefined) => {
    if (!chosen) return;
    start.reset();
    setChecked(false);
    setDelimiter('');
    setFile(chosen);
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    choose(event.dataTransfer.files[0]);
  };

  const problem = preview && preview.header.length > 0 ? mappingProblem(targets) : null;
  // Preview cells have no identity but their place: keys made once from it.
  const columns = (preview?.header ?? []).map((name, index) => ({ name, index, key: `c${index}:${name}` }));
  const rows = (preview?.rows ?? []).map((cells, n) => ({ cells, key: `r${n}` }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setChecked(true);
    if (!file || !preview || problem) return;
    start.mutate(
      { file, type, delimiter: delimiter || preview.detected, map: mappingParameter(preview.header, targets) },
      { onSuccess: (record) => navigate(`/projects/${pid}/imports/${record.id}`) },
    );
  };
  const error = start.error;
  const named = ['map', 'type', 'delimiter', 'file', 'body', 'fileName'].some((f) => fieldError(error, f));
  const mapError = (checked && problem ? t(`imports.problem.${problem}`) : undefined) ?? fieldError(error, 'map');
  const fileError = (checked && !file ? t('imports.noFile') : undefined) ?? fieldError(error, 'file') ?? fieldError(error, 'body') ?? previewError ?? undefined;

  return (
    <form onSubmit={submit} noValidate>
      <section className="panel" aria-labelledby={`${ids.file}-h`}>
        <h2 id={`${ids.file}-h`}>{t('imports.step1')}</h2>
        {/* biome-ignore lint/a11y/noStaticElementInteractions: a drop target for the mouse; the labelled file input inside it is the keyboard's way */}
        <div
          className={over ? 'dropzone over' : 'dropzone'}
          onDragOver={(event) => {
            event.preventDefault();
            setOver(true);
          }}
          onDragLeave={() => setOver(false)}
          onDrop={onDrop}
        >
          <p>{t('imports.drop')}</p>
          <div className="field file-input">
            <label htmlFor={ids.file}>{t('imports.file')}</label>
            <input
              id={ids.file}
              type="file"
              accept=".csv,text/csv,text/plain"
              onChange={(e) => choose(e.target.files?.[0])}
              aria-describedby={fileError ? `${ids.file}-error` : `${ids.file}-hint`}
              aria-invalid={fileError ? true : undefined}
            />
            <p className="hint" id={`${ids.file}-hint`}>
              {t('imports.fileHint')}
            </p>
            {fileError ? (
              <p className="field-error" id={`${ids.file}-error`}>
                {fileError}
              </p>
            ) : null}
          </div>
          {file ? <p className="chosen">{t('imports.chosen', { name: file.name, size: Math.max(1, Math.round(file.size / 1024)) })}</p> : null}
        </div>
      </section>

      {preview && preview.header.length > 0 ? (
        <>
          <section className="panel" aria-labelledby={`${ids.map}-h`}>
            <h2 id={`${ids.map}-h`}>{t('imports.step2')}</h2>
            <div className="field">
              <label htmlFor={ids.delimiter}>{t('imports.delimiter')}</label>
              <select id={ids.delimiter} value={delimiter || preview.detected} onChange={(e) => setDelimiter(e.target.value as Delimiter)}>
                {DELIMITERS.map((d) => (
                  <option key={d.key} value={d.value}>
                    {t(d.key)}
                  </option>
                ))}
              </select>
              {fieldError(error, 'delimiter') ? <p className="field-error">{fieldError(error, 'delimiter')}</p> : null}
            </div>
            <h3>{t('imports.previewTitle')}</h3>
            <TableScroll label={t('imports.previewTitle')}>
              <table className="preview-table">
                <caption className="visually-hidden">{t('imports.previewTitle')}</caption>
                <thead>
                  <tr>
                    {columns.map((column) => (
                      <th scope="col" key={column.key}>
                        {column.name}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {rows.map((row) => (
                    <tr key={row.key}>
                      {columns.map((column) => (
                        <td key={column.key}>{row.cells[column.index] ?? ''}</td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableScroll>
            <h3>{t('imports.mapTitle')}</h3>
            <p className="hint" id={`${ids.map}-hint`}>
              {t('imports.mapHint')}
            </p>
            <TableScroll label={t('imports.step2')}>
              <table className="map-table" aria-describedby={`${ids.map}-hint`}>
                <caption className="visually-hidden">{t('imports.step2')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('imports.column')}</th>
                    <th scope="col">{t('imports.importAs')}</th>
                  </tr>
                </thead>
                <tbody>
                  {columns.map((column) => (
                    <MappingRow
                      key={column.key}
                      column={column.name}
                      target={targets[column.index] ?? 'skip'}
                      onChange={(target) => {
                        setTargets((all) => all.map((value, i) => (i === column.index ? target : value)));
                      }}
                    />
                  ))}
                </tbody>
              </table>
            </TableScroll>
            {mapError ? (
              <p className="field-error" role="alert">
                {mapError}
              </p>
            ) : null}
          </section>

          <section className="panel" aria-labelledby={`${ids.type}-h`}>
            <h2 id={`${ids.type}-h`}>{t('imports.step3')}</h2>
            <fieldset>
              <legend>{t('imports.type')}</legend>
              {IMPORT_TYPES.map((value) => (
                <div className="choice" key={value}>
                  <input type="radio" id={`${ids.type}-${value}`} name="type" value={value} checked={type === value} onChange={() => setType(value)} aria-describedby={`${ids.type}-${value}-hint`} />
                  <div>
                    <label htmlFor={`${ids.type}-${value}`}>{t(`imports.types.${value}`)}</label>
                    <span className="hint" id={`${ids.type}-${value}-hint`}>
                      {t(`imports.typeHints.${value}`)}
                    </span>
                  </div>
                </div>
              ))}
              {fieldError(error, 'type') ? <p className="field-error">{fieldError(error, 'type')}</p> : null}
            </fieldset>
          </section>
        </>
      ) : null}

      {error && !named ? <ErrorMessage error={error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={start.isPending || (file !== null && !preview)}>
          {t('imports.start')}
        </button>
        {start.isPending ? <p role="status">{t('imports.uploading')}</p> : file && !preview && !previewError ? <Loading /> : null}
      </div>
    </form>
  );
}

function MappingRow({ column, target, onChange }: { column: string; target: ColumnTarget; onChange(target: ColumnTarget): void }) {
  const { t } = useTranslation();
  const id = useId();
  const blocked = unmappable(column);
  const custom = `fields.${column.trim()}` as ColumnTarget;
  return (
    <tr>
      <th scope="row">
        <label htmlFor={id}>{column || t('imports.unnamed')}</label>
      </th>
      <td>
        <select id={id} value={target} onChange={(e) => onChange(e.target.value as ColumnTarget)} disabled={blocked} aria-describedby={blocked ? `${id}-why` : undefined}>
          <option value="skip">{t('imports.targets.skip')}</option>
          {CORE_TARGETS.map((core) => (
            <option key={core} value={core}>
              {t(`imports.targets.${core}`)}
            </option>
          ))}
          {blocked ? null : <option value={custom}>{t('imports.targets.custom', { name: column.trim() })}</option>}
        </select>
        {blocked ? (
          <p className="hint" id={`${id}-why`}>
            {t('imports.unmappable')}
          </p>
        ) : null}
      </td>
    </tr>
  );
}
