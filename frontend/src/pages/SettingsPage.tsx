import { useEffect, useState, type FormEvent } from 'react';
import { useClient, useMutation, useQuery } from 'urql';
import type { Channel, SettingsQuery as SettingsData, DeliveryQuery as DeliveryData } from '../gql/graphql';
import { DeliveryQuery, SendTestMutation, SettingsQuery, UpdateSettingsMutation } from '../queries';
import { fieldErrors } from '../lib';
import { DeliveryStatusBadge, ErrorBox, errorAttributes, Field, Loading, Target } from '../components/ui';
import { ThresholdsFields, thresholdValues, thresholdsInput } from '../components/ThresholdsFields';

type Settings = SettingsData['settings'];

export function SettingsPage() {
  const [{ data, fetching, error }, refetch] = useQuery({ query: SettingsQuery });
  if (fetching && !data) return <Loading />;
  if (error) return <ErrorBox message={error.message} />;
  if (!data) return null;
  return (
    <section>
      <h1>Settings</h1>
      <SettingsForm settings={data.settings} onSaved={() => refetch({ requestPolicy: 'network-only' })} />
      <h2>Send a test notification</h2>
      <p className="muted">Sends a test message to one target and shows what the delivery did.</p>
      <div className="test-sends">
        <TestSend channel="EMAIL" label="Email" initial={data.settings.exceptionEmailTo[0] ?? ''} disabledReason={data.settings.emailEnabled ? null : 'Email is off: it needs SMTP (HERALD_SMTP_URL) and "Email from".'} />
        <TestSend channel="MS_TEAMS" label="Microsoft Teams" initial={data.settings.exceptionMsTeamsWebhook ?? ''} />
        <TestSend channel="SLACK" label="Slack" initial={data.settings.exceptionSlackWebhook ?? ''} />
      </div>
    </section>
  );
}

function SettingsForm({ settings, onSaved }: { settings: Settings; onSaved(): void }) {
  const [state, update] = useMutation(UpdateSettingsMutation);
  const [form, setForm] = useState({
    baseUrlFrontend: settings.baseUrlFrontend ?? '',
    emailFrom: settings.emailFrom ?? '',
    exceptionEmailTo: settings.exceptionEmailTo.join(', '),
    exceptionMsTeamsWebhook: settings.exceptionMsTeamsWebhook ?? '',
    exceptionSlackWebhook: settings.exceptionSlackWebhook ?? '',
    exceptionRateLimitSeconds: String(settings.exceptionRateLimitSeconds),
    securityGateActive: settings.securityGateActive,
  });
  const [thresholds, setThresholds] = useState(thresholdValues(settings.thresholds));
  const [saved, setSaved] = useState(false);
  const errors = fieldErrors(state.error);
  const text = (key: keyof typeof form, label: string, type = 'text', hint?: string) => (
    <Field id={`settings-${key}`} label={label} error={errors[key]} hint={hint}>
      <input
        id={`settings-${key}`}
        type={type}
        value={String(form[key])}
        {...errorAttributes(`settings-${key}`, errors[key])}
        onChange={(e) => setForm({ ...form, [key]: e.target.value })}
      />
    </Field>
  );

  async function submit(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const result = await update({
      input: {
        baseUrlFrontend: form.baseUrlFrontend.trim() || null,
        emailFrom: form.emailFrom.trim() || null,
        exceptionEmailTo: form.exceptionEmailTo
          .split(/[\s,;]+/)
          .map((s) => s.trim())
          .filter(Boolean),
        exceptionMsTeamsWebhook: form.exceptionMsTeamsWebhook.trim() || null,
        exceptionSlackWebhook: form.exceptionSlackWebhook.trim() || null,
        exceptionRateLimitSeconds: Number(form.exceptionRateLimitSeconds),
        securityGateActive: form.securityGateActive,
        thresholds: thresholdsInput(thresholds),
      },
    });
    if (!result.error) {
      setSaved(true);
      onSaved();
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-label="Global settings" noValidate>
      <ErrorBox message={errors.form} />
      {text('baseUrlFrontend', 'Base URL of this web app', 'url', 'Used for links in messages, e.g. https://herald.example.com')}
      {text('emailFrom', 'Email from')}
      {text('exceptionEmailTo', 'Exception email recipients', 'text', 'Comma-separated addresses')}
      {text('exceptionMsTeamsWebhook', 'Exception Microsoft Teams webhook', 'url')}
      {text('exceptionSlackWebhook', 'Exception Slack webhook', 'url')}
      {text('exceptionRateLimitSeconds', 'Rate-limit window (seconds)', 'number', 'The same exception is sent at most once per window; 0 never suppresses')}
      <div className="field checkbox">
        <input
          id="settings-gate"
          type="checkbox"
          checked={form.securityGateActive}
          onChange={(e) => setForm({ ...form, securityGateActive: e.target.checked })}
        />
        <label htmlFor="settings-gate">Security gate active globally</label>
      </div>
      <ThresholdsFields idPrefix="settings-threshold" value={thresholds} onChange={setThresholds} errors={errors} />
      <p className="muted small">Email: {settings.emailEnabled ? 'enabled' : 'disabled (needs SMTP and "Email from")'}</p>
      <button type="submit" className="primary" disabled={state.fetching}>
        Save settings
      </button>
      {saved && <span role="status"> Saved.</span>}
    </form>
  );
}

type Delivery = NonNullable<DeliveryData['delivery']>;

function TestSend({ channel, label, initial, disabledReason }: { channel: Channel; label: string; initial: string; disabledReason?: string | null }) {
  const client = useClient();
  const [state, send] = useMutation(SendTestMutation);
  const [target, setTarget] = useState(initial);
  const [delivery, setDelivery] = useState<Delivery | null>(null);
  const errors = fieldErrors(state.error);
  const id = `test-${channel.toLowerCase()}`;

  // Follow the delivery until it is sent or has failed for good.
  const pendingId = delivery && (delivery.status === 'PENDING' || delivery.status === 'RETRYING') ? delivery.id : null;
  useEffect(() => {
    if (!pendingId) return;
    const timer = window.setInterval(async () => {
      const result = await client.query(DeliveryQuery, { id: pendingId }, { requestPolicy: 'network-only' }).toPromise();
      if (result.data?.delivery) setDelivery(result.data.delivery);
    }, 1000);
    return () => window.clearInterval(timer);
  }, [pendingId, client]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setDelivery(null);
    const result = await send({ channel, target: target.trim() });
    if (result.data) setDelivery(result.data.sendTestNotification);
  }

  return (
    <form className="card test-send" onSubmit={submit} aria-label={`Test ${label}`} noValidate>
      <h3>{label}</h3>
      {disabledReason && <p className="muted small">{disabledReason}</p>}
      <ErrorBox message={errors.form} />
      <Field id={id} label={channel === 'EMAIL' ? 'Address' : 'Webhook URL'} error={errors.target}>
        <input id={id} type={channel === 'EMAIL' ? 'email' : 'url'} value={target} onChange={(e) => setTarget(e.target.value)} />
      </Field>
      <button type="submit" disabled={state.fetching || !target.trim()}>
        Send test notification
      </button>
      {delivery && (
        <p className="test-result" role="status" data-testid={`${id}-result`}>
          <DeliveryStatusBadge status={delivery.status} /> to <Target channel={delivery.channel} target={delivery.target} /> · attempts {delivery.attempts}
          {delivery.lastStatusCode ? ` · code ${delivery.lastStatusCode}` : ''}
          {delivery.lastError ? ` · ${delivery.lastError}` : ''}
        </p>
      )}
    </form>
  );
}
