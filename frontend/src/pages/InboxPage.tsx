import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { useClient, useMutation, useQuery } from 'urql';
import { useUser } from '../auth';
import type { NotificationCreatedSubscription as Created } from '../gql/graphql';
import {
  DeleteNotificationsMutation,
  MarkViewedMutation,
  NotificationCreatedSubscription,
  NotificationDeletedSubscription,
  NotificationsQuery,
  ProductNamesQuery,
} from '../queries';
import { filtersFromParams, filtersToParams, matchesFilters, roleAtLeast, TYPE_LABELS, type InboxFilters } from '../lib';
import { InboxFiltersForm } from '../components/InboxFiltersForm';
import { Chip, ErrorBox, Loading, Time } from '../components/ui';

/** How long after a live stream ended the inbox subscribes again. */
export const RESUBSCRIBE_DELAY_MS = 1000;

type Row = Created['notificationCreated'];
const PAGE = 25;

export function InboxPage() {
  const user = useUser();
  const client = useClient();
  const [params, setParams] = useSearchParams();
  const filters = useMemo(() => filtersFromParams(params), [params]);
  // Cursors of the pages before this one, for "Newer".
  const [previous, setPrevious] = useState<(string | null)[]>([]);
  const [live, setLive] = useState<Row[]>([]);
  const [deleted, setDeleted] = useState<Set<string>>(new Set());
  const [viewed, setViewed] = useState<Set<string>>(new Set());
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | null>(null);
  // Bumped to subscribe again after the server ended a live stream.
  const [stream, setStream] = useState(0);

  const variables = useMemo(
    () => ({
      filter: {
        type: filters.type,
        productId: filters.productId,
        search: filters.search || null,
        unviewedOnly: filters.unviewedOnly,
      },
      first: PAGE,
      after: filters.after,
    }),
    [filters],
  );
  const [{ data, fetching, error }, refetch] = useQuery({ query: NotificationsQuery, variables });
  // The streams outlive filter changes; a resync reloads what is shown now.
  const latestRefetch = useRef(refetch);
  latestRefetch.current = refetch;
  const [{ data: productData }] = useQuery({ query: ProductNamesQuery });
  const [, markViewed] = useMutation(MarkViewedMutation);
  const [, deleteNotifications] = useMutation(DeleteNotificationsMutation);

  const filterKey = JSON.stringify(variables);
  useEffect(() => {
    setLive([]);
    setSelected(new Set());
  }, [filterKey]);

  useEffect(() => {
    let again: ReturnType<typeof setTimeout> | undefined;
    // The server ends a stream with an error when this tab fell behind (or
    // restarts): reload the list, then subscribe again a moment later.
    const resync = () => {
      if (again) return;
      latestRefetch.current({ requestPolicy: 'network-only' });
      again = setTimeout(() => {
        setLive([]);
        setStream((n) => n + 1);
      }, RESUBSCRIBE_DELAY_MS);
    };
    const created = client.subscription(NotificationCreatedSubscription, {}).subscribe((result) => {
      if (result.error) return resync();
      const n = result.data?.notificationCreated;
      if (n) setLive((rows) => [n, ...rows.filter((r) => r.id !== n.id)]);
    });
    const removed = client.subscription(NotificationDeletedSubscription, {}).subscribe((result) => {
      if (result.error) return resync();
      const id = result.data?.notificationDeleted;
      if (id) setDeleted((ids) => new Set(ids).add(id));
    });
    return () => {
      if (again) clearTimeout(again);
      created.unsubscribe();
      removed.unsubscribe();
    };
  }, [client, stream]);

  const setFilters = useCallback(
    (next: InboxFilters) => {
      if (next.after === null) setPrevious([]);
      setParams(filtersToParams(next));
    },
    [setParams],
  );

  const rows: Row[] = useMemo(() => {
    const page = data?.notifications.edges.map((e) => e.node) ?? [];
    const pageIds = new Set(page.map((n) => n.id));
    // Live arrivals belong on the first page only.
    const fresh = filters.after ? [] : live.filter((n) => !pageIds.has(n.id));
    return [...fresh, ...page]
      .filter((n) => !deleted.has(n.id))
      .map((n) => (viewed.has(n.id) ? { ...n, viewed: true } : n))
      .filter((n) => pageIds.has(n.id) || matchesFilters(n, filters));
  }, [data, live, deleted, viewed, filters]);

  const canDelete = (n: Row) => roleAtLeast(n.product?.myRole, 'OWNER', user.isAdmin);
  const chosen = rows.filter((n) => selected.has(n.id));
  const showMark = chosen.some((n) => !n.viewed);
  const showDelete = chosen.length > 0 && chosen.every(canDelete);
  const total = (data?.notifications.totalCount ?? 0) + (filters.after ? 0 : live.filter((n) => rows.includes(n)).length);

  function toggle(id: string) {
    setSelected((s) => {
      const next = new Set(s);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function onMark() {
    const ids = chosen.filter((n) => !n.viewed).map((n) => n.id);
    const result = await markViewed({ ids });
    if (result.error) return setMessage(result.error.message);
    setViewed((v) => new Set([...v, ...ids]));
    setSelected(new Set());
    setMessage(`Marked ${ids.length} as viewed.`);
    refetch({ requestPolicy: 'network-only' });
  }

  async function onDelete() {
    const ids = chosen.map((n) => n.id);
    if (!window.confirm(`Delete ${ids.length} notification(s) for everybody?`)) return;
    const result = await deleteNotifications({ ids });
    if (result.error) return setMessage(result.error.message);
    setDeleted((d) => new Set([...d, ...ids]));
    setSelected(new Set());
    setMessage(`Deleted ${result.data?.deleteNotifications ?? 0}.`);
    refetch({ requestPolicy: 'network-only' });
  }

  const pageInfo = data?.notifications.pageInfo;
  const allSelected = rows.length > 0 && rows.every((n) => selected.has(n.id));

  return (
    <section>
      <h1>Notifications</h1>
      <InboxFiltersForm value={filters} products={productData?.products ?? []} onChange={setFilters} />
      <div className="toolbar" aria-live="polite">
        <span className="muted" data-testid="inbox-total">
          {total} {total === 1 ? 'notification' : 'notifications'}
        </span>
        {showMark && (
          <button type="button" onClick={onMark}>
            Mark viewed
          </button>
        )}
        {showDelete && (
          <button type="button" className="danger" onClick={onDelete}>
            Delete
          </button>
        )}
        {message && <span role="status">{message}</span>}
      </div>
      <ErrorBox message={error?.message} />
      {fetching && !data && <Loading />}
      {data && rows.length === 0 && <p className="empty">No notifications{filters.unviewedOnly ? ' left to view' : ''}.</p>}
      {rows.length > 0 && (
        <ul className="inbox" aria-label="Notifications">
          <li className="inbox-head">
            <input
              type="checkbox"
              aria-label="Select all"
              checked={allSelected}
              onChange={() => setSelected(allSelected ? new Set() : new Set(rows.map((n) => n.id)))}
            />
            <span className="muted">Select all on this page</span>
          </li>
          {rows.map((n) => (
            <li key={n.id} className={n.viewed ? 'inbox-row' : 'inbox-row unviewed'} data-testid="inbox-row">
              <input type="checkbox" aria-label={`Select ${n.name}`} checked={selected.has(n.id)} onChange={() => toggle(n.id)} />
              <Chip viewed={n.viewed} />
              <span className="type">{TYPE_LABELS[n.type]}</span>
              <Link className="name" to={`/notifications/${n.id}`}>
                {n.name}
              </Link>
              <span className="product">{n.product ? <Link to={`/products/${n.product.id}`}>{n.product.name}</Link> : <span className="muted">no product</span>}</span>
              <span className="when">
                <Time iso={n.createdAt} />
              </span>
            </li>
          ))}
        </ul>
      )}
      <nav className="pager" aria-label="Pages">
        {filters.after && (
          <button
            type="button"
            onClick={() => {
              const prev = previous[previous.length - 1] ?? null;
              setPrevious((p) => p.slice(0, -1));
              setParams(filtersToParams({ ...filters, after: prev }));
            }}
          >
            ← Newer
          </button>
        )}
        {pageInfo?.hasNextPage && pageInfo.endCursor && (
          <button
            type="button"
            onClick={() => {
              setPrevious((p) => [...p, filters.after]);
              setParams(filtersToParams({ ...filters, after: pageInfo.endCursor }));
            }}
          >
            Older →
          </button>
        )}
      </nav>
    </section>
  );
}
