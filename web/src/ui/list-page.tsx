import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { usePageTitle } from './page-title';
import { ErrorMessage, Loading } from './status';

export interface ListColumn {
  header: string;
  /** Right-aligned figures. */
  numeric?: boolean;
}

interface ListPageProps<T> {
  title: string;
  /** A line under the title saying what the list is for. */
  intro?: string;
  /** Shown when the list is empty. */
  empty: string;
  /** The "new" link, shown only when the user may create. */
  create?: { allowed: boolean; to: string; label: string };
  list: { isPending: boolean; error: unknown; data: T[] | undefined };
  columns: ListColumn[];
  /** One `<tr>` per item, its cells in `columns` order. */
  row: (item: T) => ReactNode;
}

/** A project's list page: title, the "new" link, loading and error states, and a captioned table. */
export function ListPage<T>({ title, intro, empty, create, list, columns, row }: ListPageProps<T>) {
  usePageTitle(title);
  return (
    <>
      <div className="page-head">
        <h1>{title}</h1>
        {create?.allowed ? (
          <Link className="button primary" to={create.to}>
            {create.label}
          </Link>
        ) : null}
      </div>
      {intro ? <p className="hint">{intro}</p> : null}
      {list.isPending ? <Loading /> : null}
      <ErrorMessage error={list.error} />
      {list.data?.length === 0 ? <p className="empty">{empty}</p> : null}
      {list.data && list.data.length > 0 ? (
        <div className="table-wrap">
          <table>
            <caption className="visually-hidden">{title}</caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.header} scope="col" className={c.numeric ? 'num' : undefined}>
                    {c.header}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{list.data.map(row)}</tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}
