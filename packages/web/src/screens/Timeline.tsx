import { ErrorNotice, Loading } from '../components/common.js';
import { when } from '../format.js';
import { useAsync } from '../hooks.js';
import { useSession } from '../session.js';

/** The version's lifecycle timeline, oldest first (first 200 entries). */
export function Timeline(props: { namespace: string; model: string; version: number; etag: string }) {
  const { namespace, model, version, etag } = props;
  const { client } = useSession();
  // The etag changes with every transition, so the timeline reloads after an action.
  const timeline = useAsync(
    (signal) => client.lineage.timeline(namespace, model, version, { page_size: 200 }, { signal }),
    [client, namespace, model, version, etag],
  );
  if (timeline.error) return <ErrorNotice error={timeline.error} />;
  if (!timeline.data) return <Loading what="timeline" />;
  return (
    <ol className="timeline" aria-label="Lifecycle timeline">
      {timeline.data.items.map((e) => (
        <li key={`${e.time}-${e.kind}-${e.summary}`} className={`tl-${e.kind}`}>
          <time dateTime={e.time}>{when(e.time)}</time> <span className="chip">{e.kind}</span> {e.summary}{' '}
          <span className="muted">by {e.actor}</span>
        </li>
      ))}
    </ol>
  );
}
