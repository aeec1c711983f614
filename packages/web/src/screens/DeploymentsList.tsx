import { ErrorNotice, Loading, Pager, StatusBadge } from '../components/common.js';
import { when } from '../format.js';
import { useAsync } from '../hooks.js';
import { usePageTokens } from '../paging.js';
import { href } from '../router.js';
import { useSession } from '../session.js';

export function DeploymentsList() {
  const { client } = useSession();
  const pages = usePageTokens();
  const list = useAsync(
    (signal) => client.deployments.list({ page_size: 50, page_token: pages.token }, { signal }),
    [client, pages.token],
  );
  return (
    <section aria-labelledby="deployments-title">
      <h1 id="deployments-title">Deployments</h1>
      <p className="muted">Deploy a version from its page (Models → model → version).</p>
      <ErrorNotice error={list.error} />
      {list.loading && !list.data ? <Loading what="deployments" /> : null}
      {list.data ? (
        <>
          <table>
            <thead>
              <tr>
                <th scope="col">Deployment</th>
                <th scope="col">Model</th>
                <th scope="col">Serving</th>
                <th scope="col">Status</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {list.data.items.map((d) => (
                <tr key={d.name}>
                  <td>
                    <a href={href(['deployments', d.deployment_id])}>{d.deployment_id}</a>
                  </td>
                  <td>{d.model.replace(/^namespaces\//, '').replace('/models/', '/')}</td>
                  <td>{d.serving.map((s) => `v${s.version} ${s.percent}%`).join(', ') || '—'}</td>
                  <td>
                    <StatusBadge status={d.status} />
                  </td>
                  <td>{when(d.update_time)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.data.items.length === 0 ? <p className="muted">Nothing deployed yet.</p> : null}
          <Pager
            label="Deployments"
            page={pages.page}
            hasNext={list.data.next_page_token !== ''}
            onPrevious={pages.previous}
            onNext={() => list.data && pages.next(list.data.next_page_token)}
          />
        </>
      ) : null}
    </section>
  );
}
