import { AUDIT_OUTCOMES, type AuditOutcome, type ListAuditEventsRequest } from '@quiver/sdk';
import { useState } from 'react';
import { ErrorNotice, Loading, Pager, StatusBadge } from '../components/common.js';
import { when } from '../format.js';
import { useAsync } from '../hooks.js';
import { usePageTokens } from '../paging.js';
import { useSession } from '../session.js';
import { AuditVerify } from './AuditVerify.js';

type Filters = Pick<ListAuditEventsRequest, 'principal' | 'action' | 'resource' | 'outcome'>;

/** The audit log, newest first, filtered by the server; and the chain's verification. */
export function AuditScreen() {
  const { client } = useSession();
  const [draft, setDraft] = useState<Record<'principal' | 'action' | 'resource' | 'outcome', string>>({
    principal: '',
    action: '',
    resource: '',
    outcome: '',
  });
  const [filters, setFilters] = useState<Filters>({});
  const pages = usePageTokens();
  const events = useAsync(
    (signal) =>
      client.audit.listEvents(
        { ...filters, order_by: 'seq desc', page_size: 25, page_token: pages.token },
        { signal },
      ),
    [client, filters, pages.token],
  );

  const apply = (event: React.FormEvent) => {
    event.preventDefault();
    setFilters({
      principal: draft.principal.trim() || undefined,
      action: draft.action.trim() || undefined,
      resource: draft.resource.trim() || undefined,
      outcome: (draft.outcome || undefined) as AuditOutcome | undefined,
    });
    pages.reset();
  };
  const field = (key: 'principal' | 'action' | 'resource', label: string, placeholder: string) => (
    <label>
      {label}
      <input
        value={draft[key]}
        placeholder={placeholder}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
      />
    </label>
  );

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <AuditVerify />
      <h2>Events</h2>
      <form className="toolbar" onSubmit={apply} aria-label="Filter audit events">
        {field('principal', 'Principal', 'admin')}
        {field('action', 'Action', 'TransitionVersion')}
        {field('resource', 'Resource', 'namespaces/fraud/*')}
        <label>
          Outcome
          <select value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
            <option value="">Any</option>
            {AUDIT_OUTCOMES.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorNotice error={events.error} />
      {events.loading && !events.data ? <Loading what="audit events" /> : null}
      {events.data ? (
        <>
          <table aria-busy={events.loading} data-testid="audit-events">
            <thead>
              <tr>
                <th scope="col">Seq</th>
                <th scope="col">Time</th>
                <th scope="col">Principal</th>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {events.data.items.map((e) => (
                <tr key={e.seq}>
                  <td>{e.seq}</td>
                  <td>{when(e.time)}</td>
                  <td>{e.principal}</td>
                  <td>{e.action}</td>
                  <td className="wrap">{e.resource}</td>
                  <td>
                    <StatusBadge status={e.outcome} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {events.data.items.length === 0 ? <p className="muted">No event matches.</p> : null}
          <Pager
            label="Audit events"
            page={pages.page}
            hasNext={events.data.next_page_token !== ''}
            onPrevious={pages.previous}
            onNext={() => events.data && pages.next(events.data.next_page_token)}
          />
        </>
      ) : null}
    </section>
  );
}
