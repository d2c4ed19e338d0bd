import { useEffect, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { useUser } from '../auth';
import { DeleteNotificationsMutation, MarkViewedMutation, NotificationQuery, RedeliverMutation } from '../queries';
import { roleAtLeast, TYPE_LABELS } from '../lib';
import type { NotificationQuery as NotificationData } from '../gql/graphql';
import { Chip, DeliveryStatusBadge, ErrorBox, Loading, Target, Time } from '../components/ui';

type Delivery = NonNullable<NotificationData['notification']>['deliveries'][number];

/**
 * What went wrong last: the server's error (for a webhook that answered with
 * an error status it names the status) and what the receiver answered.
 */
function lastError(d: Delivery): string | null {
  if (d.status === 'SENT') return null;
  const answer = d.history[d.history.length - 1]?.response?.trim() || null;
  if (d.lastError && answer) return `${d.lastError}: ${answer}`;
  return d.lastError ?? answer;
}

const CHANNEL_LABELS: Record<string, string> = { EMAIL: 'Email', MS_TEAMS: 'Microsoft Teams', SLACK: 'Slack' };

export function NotificationPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const navigate = useNavigate();
  const [{ data, fetching, error }, refetch] = useQuery({ query: NotificationQuery, variables: { id } });
  const [, markViewed] = useMutation(MarkViewedMutation);
  const [, redeliver] = useMutation(RedeliverMutation);
  const [, remove] = useMutation(DeleteNotificationsMutation);
  const [message, setMessage] = useState<string | null>(null);
  const marked = useRef<string | null>(null);

  const n = data?.notification;
  // Opening a notification marks it viewed (once per visit).
  useEffect(() => {
    if (n && !n.viewed && marked.current !== n.id) {
      marked.current = n.id;
      void markViewed({ ids: [n.id] });
    }
  }, [n, markViewed]);

  // Deliveries in progress: look again every few seconds.
  const pending = n?.deliveries.some((d) => d.status === 'PENDING' || d.status === 'RETRYING');
  useEffect(() => {
    if (!pending) return;
    const timer = window.setInterval(() => refetch({ requestPolicy: 'network-only' }), 3000);
    return () => window.clearInterval(timer);
  }, [pending, refetch]);

  if (fetching && !data) return <Loading />;
  if (error) return <ErrorBox message={error.message} />;
  if (!n) {
    return (
      <section>
        <h1>Notification not found</h1>
        <p>
          It may have been deleted. <Link to="/">Back to the inbox</Link>
        </p>
      </section>
    );
  }

  const canManage = roleAtLeast(n.product?.myRole, 'MAINTAINER', user.isAdmin);
  const canDelete = roleAtLeast(n.product?.myRole, 'OWNER', user.isAdmin);

  async function onRedeliver(deliveryId: string) {
    const result = await redeliver({ id: deliveryId });
    setMessage(result.error ? result.error.message : 'Delivery queued again.');
    refetch({ requestPolicy: 'network-only' });
  }

  async function onDelete() {
    if (!n || !window.confirm('Delete this notification for everybody?')) return;
    const result = await remove({ ids: [n.id] });
    if (result.error) setMessage(result.error.message);
    else navigate('/', { replace: true });
  }

  return (
    <section className="notification">
      <p>
        <Link to="/">← Inbox</Link>
      </p>
      <h1>{n.name}</h1>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{TYPE_LABELS[n.type]}</dd>
        <dt>Time</dt>
        <dd>
          <Time iso={n.createdAt} />
        </dd>
        <dt>Product</dt>
        <dd>{n.product ? <Link to={`/products/${n.product.id}`}>{n.product.name}</Link> : <span className="muted">none</span>}</dd>
        <dt>User</dt>
        <dd>{n.user ? n.user.fullName || n.user.username : <span className="muted">none</span>}</dd>
        <dt>Status</dt>
        <dd>
          <Chip viewed={true} />
        </dd>
        {n.function && (
          <>
            <dt>Function</dt>
            <dd>
              <code>{n.function}</code>
            </dd>
          </>
        )}
        {n.arguments && (
          <>
            <dt>Arguments</dt>
            <dd>
              <code>{n.arguments}</code>
            </dd>
          </>
        )}
        {n.repeatCount ? (
          <>
            <dt>Repeated</dt>
            <dd>
              {n.repeatCount} more time(s) unsent{n.repeatSince ? <> since <Time iso={n.repeatSince} /></> : null}
            </dd>
          </>
        ) : null}
      </dl>
      {n.message && (
        <>
          <h2>Message</h2>
          <pre className="block">{n.message}</pre>
        </>
      )}
      {n.trace && (
        <>
          <h2>Trace</h2>
          <pre className="block trace">{n.trace}</pre>
        </>
      )}
      {canDelete && (
        <p>
          <button type="button" className="danger" onClick={onDelete}>
            Delete notification
          </button>
        </p>
      )}
      <h2>Deliveries</h2>
      {message && <p role="status">{message}</p>}
      {n.deliveries.length === 0 ? (
        <p className="empty">No channel is configured for this notification; it is only stored.</p>
      ) : (
        <div className="table-wrap">
          <table className="deliveries">
            <thead>
              <tr>
                <th scope="col">Channel</th>
                <th scope="col">Target</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
                <th scope="col">Next attempt</th>
                {canManage && <th scope="col"><span className="visually-hidden">Actions</span></th>}
              </tr>
            </thead>
            <tbody>
              {n.deliveries.map((d) => (
                <tr key={d.id} data-testid="delivery-row">
                  <td>{CHANNEL_LABELS[d.channel] ?? d.channel}</td>
                  <td>
                    <Target channel={d.channel} target={d.target} />
                  </td>
                  <td>
                    <DeliveryStatusBadge status={d.status} />
                  </td>
                  <td>{d.attempts}</td>
                  <td>
                    {lastError(d) ?? <span className="muted">—</span>}
                  </td>
                  <td>{d.nextAttemptAt ? <Time iso={d.nextAttemptAt} /> : <span className="muted">—</span>}</td>
                  {canManage && (
                    <td>
                      <button type="button" onClick={() => onRedeliver(d.id)}>
                        Redeliver
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
