import { useState } from 'react';
import { ErrorNotice, Labels, Loading, Pager } from '../components/common.js';
import { modelFilter } from '../filters.js';
import { when } from '../format.js';
import { useAsync } from '../hooks.js';
import { usePageTokens } from '../paging.js';
import { href } from '../router.js';
import { useSession } from '../session.js';

const PAGE_SIZE = 25;
const ORDERS = [
  { value: '', label: 'Name' },
  { value: 'update_time desc', label: 'Recently updated' },
  { value: 'create_time desc', label: 'Newest' },
  { value: 'latest_version desc', label: 'Most versions' },
];

/**
 * Models across namespaces, searched and filtered by the server and read a page at a time:
 * at a million versions nothing is filtered or counted in the browser.
 */
export function ModelsList() {
  const { client } = useSession();
  const [namespace, setNamespace] = useState('-');
  const [search, setSearch] = useState('');
  const [advanced, setAdvanced] = useState('');
  const [order, setOrder] = useState('');
  const [applied, setApplied] = useState({ search: '', advanced: '' });
  const pages = usePageTokens();

  const namespaces = useAsync((signal) => client.namespaces.list({ page_size: 1000 }, { signal }), [client]);
  const filter = modelFilter(applied.search, applied.advanced);
  const models = useAsync(
    (signal) =>
      client.models.list(
        namespace,
        { page_size: PAGE_SIZE, page_token: pages.token, filter, order_by: order || undefined },
        { signal },
      ),
    [client, namespace, filter, order, pages.token],
  );

  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    setApplied({ search, advanced });
    pages.reset();
  };

  return (
    <section aria-labelledby="models-title">
      <h1 id="models-title">Models</h1>
      <form className="toolbar" onSubmit={apply} aria-label="Find models">
        <label>
          Namespace
          <select
            value={namespace}
            onChange={(e) => {
              setNamespace(e.target.value);
              pages.reset();
            }}
          >
            <option value="-">All namespaces</option>
            {namespaces.data?.items.map((n) => (
              <option key={n.name} value={n.namespace_id}>
                {n.namespace_id}
              </option>
            ))}
          </select>
        </label>
        <label>
          Search models
          <input
            type="search"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
            placeholder="model id starts with…"
          />
        </label>
        <label className="grow">
          Filter
          <input
            value={advanced}
            onChange={(e) => setAdvanced(e.target.value)}
            placeholder={'labels.team = "risk" AND latest_version > 3'}
          />
        </label>
        <label>
          Sort by
          <select
            value={order}
            onChange={(e) => {
              setOrder(e.target.value);
              pages.reset();
            }}
          >
            {ORDERS.map((o) => (
              <option key={o.value} value={o.value}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={models.error} />
      {models.loading && !models.data ? <Loading what="models" /> : null}
      {models.data ? (
        <>
          <table aria-busy={models.loading}>
            <caption className="sr-only">Models, page {pages.page + 1}</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Namespace</th>
                <th scope="col">Latest</th>
                <th scope="col">Aliases</th>
                <th scope="col">Labels</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {models.data.items.map((m) => (
                <tr key={m.name}>
                  <td>
                    <a href={href(['models', m.namespace.replace(/^namespaces\//, ''), m.model_id])}>
                      {m.model_id}
                    </a>
                    {m.description ? <div className="muted small">{m.description}</div> : null}
                  </td>
                  <td>{m.namespace.replace(/^namespaces\//, '')}</td>
                  <td>{m.latest_version > 0 ? `v${m.latest_version}` : '—'}</td>
                  <td>
                    {Object.entries(m.aliases)
                      .map(([a, v]) => `${a}→v${v}`)
                      .join(', ') || '—'}
                  </td>
                  <td>
                    <Labels labels={m.labels} />
                  </td>
                  <td>{when(m.update_time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {models.data.items.length === 0 ? <p className="muted">No model matches.</p> : null}
          <Pager
            label="Models"
            page={pages.page}
            hasNext={models.data.next_page_token !== ''}
            onPrevious={pages.previous}
            onNext={() => models.data && pages.next(models.data.next_page_token)}
          />
        </>
      ) : null}
    </section>
  );
}
