import { useEffect, useState } from 'react';
import type { InboxFilters } from '../lib';
import { TYPE_LABELS } from '../lib';
import type { NotificationType } from '../gql/graphql';

/**
 * The inbox filters. Changes are reported at once, except the text, which
 * waits until typing pauses.
 */
export function InboxFiltersForm({
  value,
  products,
  onChange,
}: {
  value: InboxFilters;
  products: { id: string; name: string }[];
  onChange(next: InboxFilters): void;
}) {
  const [search, setSearch] = useState(value.search);
  useEffect(() => setSearch(value.search), [value.search]);
  useEffect(() => {
    if (search === value.search) return;
    const timer = window.setTimeout(() => onChange({ ...value, search, after: null }), 300);
    return () => window.clearTimeout(timer);
  }, [search, value, onChange]);

  return (
    <form className="filters" role="search" aria-label="Filter notifications" onSubmit={(e) => {
      e.preventDefault();
      onChange({ ...value, search, after: null });
    }}>
      <div className="field">
        <label htmlFor="filter-type">Type</label>
        <select
          id="filter-type"
          value={value.type ?? ''}
          onChange={(e) => onChange({ ...value, type: (e.target.value || null) as NotificationType | null, after: null })}
        >
          <option value="">All types</option>
          {(Object.keys(TYPE_LABELS) as NotificationType[]).map((t) => (
            <option key={t} value={t}>
              {TYPE_LABELS[t]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="filter-product">Product</label>
        <select
          id="filter-product"
          value={value.productId ?? ''}
          onChange={(e) => onChange({ ...value, productId: e.target.value || null, after: null })}
        >
          <option value="">All products</option>
          {products.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field grow">
        <label htmlFor="filter-search">Text</label>
        <input id="filter-search" type="search" placeholder="Search name or message" value={search} onChange={(e) => setSearch(e.target.value)} />
      </div>
      <div className="field checkbox">
        <input
          id="filter-unviewed"
          type="checkbox"
          checked={value.unviewedOnly}
          onChange={(e) => onChange({ ...value, unviewedOnly: e.target.checked, after: null })}
        />
        <label htmlFor="filter-unviewed">Unviewed only</label>
      </div>
    </form>
  );
}
