import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery } from 'urql';
import { useUser } from '../auth';
import type { ProductQuery as ProductData, Role } from '../gql/graphql';
import { ProductQuery, RemoveMemberMutation, SetMemberMutation, UpdateProductMutation, UsersQuery } from '../queries';
import { ALL_ROLES, fieldErrors, roleAtLeast } from '../lib';
import { Chip, ErrorBox, errorAttributes, Field, GateStatus, Loading, Time } from '../components/ui';
import { SEVERITIES, ThresholdsFields, thresholdValues, thresholdsInput, type ThresholdValues } from '../components/ThresholdsFields';

type Product = NonNullable<ProductData['product']>;

export function ProductPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ProductQuery, variables: { id } });
  const reload = () => refetch({ requestPolicy: 'network-only' });

  if (fetching && !data) return <Loading />;
  if (error) return <ErrorBox message={error.message} />;
  const p = data?.product;
  if (!p) {
    return (
      <section>
        <h1>Product not found</h1>
        <p>
          <Link to="/products">Back to products</Link>
        </p>
      </section>
    );
  }
  const canEdit = roleAtLeast(p.myRole, 'MAINTAINER', user.isAdmin);
  const history = data?.notifications.edges.map((e) => e.node) ?? [];

  return (
    <section className="product">
      <p>
        <Link to="/products">← Products</Link>
      </p>
      <h1>{p.name}</h1>
      {p.description && <p>{p.description}</p>}
      <dl className="facts">
        <dt>Security gate</dt>
        <dd data-testid="gate-status">
          <GateStatus status={p.securityGate} />
        </dd>
        <dt>Group</dt>
        <dd>{p.productGroup?.name ?? <span className="muted">none</span>}</dd>
        <dt>Your role</dt>
        <dd>{user.isAdmin ? 'Administrator' : (p.myRole ?? '—')}</dd>
      </dl>

      <h2>Open observations</h2>
      <ul className="counts">
        {SEVERITIES.map((s) => (
          <li key={s}>
            <span className="count">{p.openObservationCounts[s] ?? 0}</span> {s}
          </li>
        ))}
      </ul>
      {p.observations.length === 0 ? (
        <p className="empty">No observations.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Title</th>
                <th scope="col">Severity</th>
                <th scope="col">Status</th>
                <th scope="col">Scanner</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {p.observations.map((o) => (
                <tr key={o.id}>
                  <td>{o.title}</td>
                  <td>
                    <span className={`sev sev-${o.severity.toLowerCase()}`}>{o.severity}</span>
                  </td>
                  <td>{o.status.replace(/_/g, ' ').toLowerCase()}</td>
                  <td>{o.scanner}</td>
                  <td>
                    <Time iso={o.updatedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <h2>Gate history</h2>
      {history.length === 0 ? (
        <p className="empty">The gate has not changed yet.</p>
      ) : (
        <ul className="history">
          {history.map((n) => (
            <li key={n.id}>
              <Chip viewed={n.viewed} /> <Link to={`/notifications/${n.id}`}>{n.name}</Link> <Time iso={n.createdAt} />
            </li>
          ))}
        </ul>
      )}

      {canEdit && <GateSettingsForm product={p} onSaved={reload} />}
      <Members product={p} canEdit={canEdit} onChanged={reload} />
    </section>
  );
}

type GateMode = 'global' | 'on' | 'off';

function GateSettingsForm({ product, onSaved }: { product: Product; onSaved(): void }) {
  const [state, update] = useMutation(UpdateProductMutation);
  const [mode, setMode] = useState<GateMode>(product.securityGateActive == null ? 'global' : product.securityGateActive ? 'on' : 'off');
  const [thresholds, setThresholds] = useState<ThresholdValues>(thresholdValues(product.thresholds));
  const [emails, setEmails] = useState(product.notificationEmailTo.join(', '));
  const [teams, setTeams] = useState(product.notificationMsTeamsWebhook ?? '');
  const [slack, setSlack] = useState(product.notificationSlackWebhook ?? '');
  const [saved, setSaved] = useState(false);
  const errors = fieldErrors(state.error);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const input: Record<string, unknown> = {
      securityGateActive: mode === 'global' ? null : mode === 'on',
      thresholds: thresholdsInput(thresholds),
      notificationEmailTo: emails
        .split(/[\s,;]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    };
    // Webhooks come back masked to those who may not read them; only send
    // what was changed here.
    if (teams !== (product.notificationMsTeamsWebhook ?? '')) input.notificationMsTeamsWebhook = teams.trim() || null;
    if (slack !== (product.notificationSlackWebhook ?? '')) input.notificationSlackWebhook = slack.trim() || null;
    const result = await update({ id: product.id, input });
    if (!result.error) {
      setSaved(true);
      onSaved();
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-label="Gate and notification settings" noValidate>
      <h2>Gate and notification settings</h2>
      <ErrorBox message={errors.form} />
      <Field id="gate-mode" label="Security gate" error={errors.securityGateActive}>
        <select id="gate-mode" value={mode} onChange={(e) => setMode(e.target.value as GateMode)}>
          <option value="global">Use the global setting</option>
          <option value="on">Active, with the thresholds below</option>
          <option value="off">Disabled</option>
        </select>
      </Field>
      <ThresholdsFields idPrefix="product-threshold" value={thresholds} onChange={setThresholds} errors={errors} disabled={mode !== 'on'} />
      <Field id="email-to" label="Email recipients" error={errors.notificationEmailTo} hint="Comma-separated addresses">
        <input
          id="email-to"
          value={emails}
          onChange={(e) => setEmails(e.target.value)}
          {...errorAttributes('email-to', errors.notificationEmailTo)}
        />
      </Field>
      <Field id="teams-webhook" label="Microsoft Teams webhook" error={errors.notificationMsTeamsWebhook}>
        <input
          id="teams-webhook"
          type="url"
          value={teams}
          onChange={(e) => setTeams(e.target.value)}
          {...errorAttributes('teams-webhook', errors.notificationMsTeamsWebhook)}
        />
      </Field>
      <Field id="slack-webhook" label="Slack webhook" error={errors.notificationSlackWebhook}>
        <input
          id="slack-webhook"
          type="url"
          value={slack}
          onChange={(e) => setSlack(e.target.value)}
          {...errorAttributes('slack-webhook', errors.notificationSlackWebhook)}
        />
      </Field>
      <button type="submit" className="primary" disabled={state.fetching}>
        Save settings
      </button>
      {saved && <span role="status"> Saved.</span>}
    </form>
  );
}

function Members({ product, canEdit, onChanged }: { product: Product; canEdit: boolean; onChanged(): void }) {
  const user = useUser();
  const [{ data: usersData }] = useQuery({ query: UsersQuery, pause: !user.isAdmin || !canEdit });
  const [setState, setMember] = useMutation(SetMemberMutation);
  const [, removeMember] = useMutation(RemoveMemberMutation);
  const [newUser, setNewUser] = useState('');
  const [newRole, setNewRole] = useState<Role>('READER');
  const [message, setMessage] = useState<string | null>(null);
  useEffect(() => setMessage(null), [product.id]);
  const canGiveOwner = roleAtLeast(product.myRole, 'OWNER', user.isAdmin);
  const roles = ALL_ROLES.filter((r) => r !== 'OWNER' || canGiveOwner);
  const memberIds = new Set(product.members.map((m) => m.user.id));
  const errors = fieldErrors(setState.error);

  async function change(userId: string, role: Role) {
    const result = await setMember({ productId: product.id, userId, role });
    setMessage(result.error ? result.error.message : 'Role changed.');
    onChanged();
  }

  async function remove(userId: string, name: string) {
    if (!window.confirm(`Remove ${name} from ${product.name}?`)) return;
    const result = await removeMember({ productId: product.id, userId });
    setMessage(result.error ? result.error.message : `${name} removed.`);
    onChanged();
  }

  async function add(e: FormEvent) {
    e.preventDefault();
    // Administrators pick from the user list (ids); everyone else names the
    // user by username or email, since ids are not theirs to look up.
    const member = usersData ? { userId: newUser } : { user: newUser.trim() };
    const result = await setMember({ productId: product.id, ...member, role: newRole });
    if (!result.error) {
      setNewUser('');
      setMessage('Member added.');
      onChanged();
    }
  }

  return (
    <>
      <h2>Members</h2>
      {message && <p role="status">{message}</p>}
      <div className="table-wrap">
        <table className="members">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              {canEdit && <th scope="col"><span className="visually-hidden">Actions</span></th>}
            </tr>
          </thead>
          <tbody>
            {product.members.map((m) => (
              <tr key={m.user.id}>
                <td>{m.user.fullName || m.user.username}</td>
                <td>
                  {canEdit ? (
                    <select aria-label={`Role of ${m.user.username}`} value={m.role} onChange={(e) => change(m.user.id, e.target.value as Role)}>
                      {ALL_ROLES.map((r) => (
                        <option key={r} value={r} disabled={r === 'OWNER' && !canGiveOwner}>
                          {r.toLowerCase()}
                        </option>
                      ))}
                    </select>
                  ) : (
                    m.role.toLowerCase()
                  )}
                </td>
                {canEdit && (
                  <td>
                    <button type="button" onClick={() => remove(m.user.id, m.user.username)}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {canEdit && (
        <form className="card inline-form" onSubmit={add} aria-label="Add member">
          <h3>Add a member</h3>
          <ErrorBox message={errors.form} />
          <Field id="member-user" label="User" error={errors.user ?? errors.userId}>
            {usersData ? (
              <select id="member-user" required value={newUser} onChange={(e) => setNewUser(e.target.value)}>
                <option value="">Choose…</option>
                {usersData.users
                  .filter((u) => !memberIds.has(u.id))
                  .map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.username}
                    </option>
                  ))}
              </select>
            ) : (
              <input id="member-user" required placeholder="Username or email" value={newUser} onChange={(e) => setNewUser(e.target.value)} />
            )}
          </Field>
          <Field id="member-role" label="Role">
            <select id="member-role" value={newRole} onChange={(e) => setNewRole(e.target.value as Role)}>
              {roles.map((r) => (
                <option key={r} value={r}>
                  {r.toLowerCase()}
                </option>
              ))}
            </select>
          </Field>
          <button type="submit" className="primary" disabled={setState.fetching}>
            Add member
          </button>
        </form>
      )}
    </>
  );
}
