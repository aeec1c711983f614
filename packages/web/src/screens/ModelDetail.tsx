import { VERSION_STATUSES } from '@quiver/sdk';
import { useState } from 'react';
import { ErrorNotice, Labels, Loading, Pager, StatusBadge } from '../components/common.js';
import { when } from '../format.js';
import { useAsync } from '../hooks.js';
import { usePageTokens } from '../paging.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { RegisterVersion } from './RegisterVersion.js';

/** A model: description, labels, aliases, and its versions a page at a time (newest first). */
export function ModelDetail({ namespace, model }: { namespace: string; model: string }) {
  const { client } = useSession();
  const [status, setStatus] = useState('');
  const pages = usePageTokens();
  const detail = useAsync(
    (signal) => client.models.get(namespace, model, { signal }),
    [client, namespace, model],
  );
  const versions = useAsync(
    (signal) =>
      client.versions.list(
        namespace,
        model,
        { page_size: 20, page_token: pages.token, filter: status ? `status = ${status}` : undefined },
        { signal },
      ),
    [client, namespace, model, status, pages.token],
  );
  const m = detail.data;

  return (
    <section aria-labelledby="model-title">
      <p className="crumbs">
        <a href="#/models">Models</a> / {namespace}
      </p>
      <h1 id="model-title">{model}</h1>
      <ErrorNotice error={detail.error} />
      {m ? (
        <dl className="facts">
          <dt>Description</dt>
          <dd>{m.description || <span className="muted">none</span>}</dd>
          <dt>Labels</dt>
          <dd>
            <Labels labels={m.labels} />
          </dd>
          <dt>Aliases</dt>
          <dd>
            {Object.keys(m.aliases).length === 0 ? <span className="muted">none</span> : null}
            {Object.entries(m.aliases).map(([alias, v]) => (
              <a key={alias} className="chip" href={href(['models', namespace, model, 'versions', v])}>
                @{alias} → v{v}
              </a>
            ))}
          </dd>
          <dt>Created</dt>
          <dd>{when(m.create_time)}</dd>
        </dl>
      ) : null}
      <RegisterVersion namespace={namespace} model={model} />
      <h2>Versions</h2>
      <label className="inline">
        Status
        <select
          value={status}
          onChange={(e) => {
            setStatus(e.target.value);
            pages.reset();
          }}
        >
          <option value="">Any</option>
          {VERSION_STATUSES.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <ErrorNotice error={versions.error} />
      {versions.loading && !versions.data ? <Loading what="versions" /> : null}
      {versions.data ? (
        <>
          <table aria-busy={versions.loading}>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Status</th>
                <th scope="col">Aliases</th>
                <th scope="col">Description</th>
                <th scope="col">Created by</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {versions.data.items.map((v) => (
                <tr key={v.name}>
                  <td>
                    <a href={href(['models', namespace, model, 'versions', v.version])}>v{v.version}</a>
                  </td>
                  <td>
                    <StatusBadge status={v.status} />
                  </td>
                  <td>{v.aliases.map((a) => `@${a}`).join(', ') || '—'}</td>
                  <td>{v.description}</td>
                  <td>{v.created_by}</td>
                  <td>{when(v.create_time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {versions.data.items.length === 0 ? <p className="muted">No versions.</p> : null}
          <Pager
            label="Versions"
            page={pages.page}
            hasNext={versions.data.next_page_token !== ''}
            onPrevious={pages.previous}
            onNext={() => versions.data && pages.next(versions.data.next_page_token)}
          />
        </>
      ) : null}
    </section>
  );
}
