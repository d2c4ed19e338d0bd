// Small presentational pieces used across pages.
import type { ReactNode } from 'react';
import type { SecurityGateStatus, DeliveryStatus } from '../gql/graphql';
import { absoluteTime, maskTarget, relativeTime } from '../lib';

/** New/Viewed: text and colour. */
export function Chip({ viewed }: { viewed: boolean }) {
  return <span className={viewed ? 'chip chip-viewed' : 'chip chip-new'}>{viewed ? 'Viewed' : 'New'}</span>;
}

const GATE_TEXT: Record<SecurityGateStatus, string> = { PASSED: 'Passed', FAILED: 'Failed', NONE: 'None' };
const GATE_ICON: Record<SecurityGateStatus, string> = { PASSED: '✓', FAILED: '✗', NONE: '–' };

/** A gate status with a word and a symbol, never colour alone. */
export function GateStatus({ status }: { status: SecurityGateStatus }) {
  return (
    <span className={`gate gate-${status.toLowerCase()}`}>
      <span aria-hidden="true">{GATE_ICON[status]} </span>
      {GATE_TEXT[status]}
    </span>
  );
}

export function DeliveryStatusBadge({ status }: { status: DeliveryStatus }) {
  return <span className={`status status-${status.toLowerCase()}`}>{status.charAt(0) + status.slice(1).toLowerCase()}</span>;
}

/** A delivery target, webhook URLs masked. */
export function Target({ channel, target }: { channel: string; target: string }) {
  return <code className="target">{maskTarget(channel, target)}</code>;
}

export function Time({ iso }: { iso: string }) {
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {relativeTime(iso)} <span className="muted">({absoluteTime(iso)})</span>
    </time>
  );
}

/** A labelled form field with its error beside it. */
const errorId = (id: string) => `${id}-error`;

/** The attributes that tie an input to its {@link Field}'s error message. */
export function errorAttributes(id: string, error?: string) {
  return error ? { 'aria-invalid': true, 'aria-describedby': errorId(id) } : {};
}

export function Field({
  label,
  id,
  error,
  hint,
  children,
}: {
  label: string;
  id: string;
  error?: string;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className={error ? 'field field-invalid' : 'field'}>
      <label htmlFor={id}>{label}</label>
      {children}
      {hint && !error && <small className="hint">{hint}</small>}
      {error && (
        <small className="field-error" id={errorId(id)} role="alert">
          {error}
        </small>
      )}
    </div>
  );
}

export function ErrorBox({ message }: { message?: string | null }) {
  if (!message) return null;
  return (
    <p className="error-box" role="alert">
      {message}
    </p>
  );
}

export function Loading() {
  return <p className="muted" aria-live="polite">Loading…</p>;
}
