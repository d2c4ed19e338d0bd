import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/react';
import { Chip, Field, GateStatus, Target } from './ui';

describe('Chip', () => {
  it('says New or Viewed in words', () => {
    const { rerender } = render(<Chip viewed={false} />);
    expect(screen.getByText('New')).toHaveClass('chip-new');
    rerender(<Chip viewed={true} />);
    expect(screen.getByText('Viewed')).toHaveClass('chip-viewed');
  });
});

describe('GateStatus', () => {
  it('writes the status, not only colours it', () => {
    render(
      <>
        <GateStatus status="FAILED" />
        <GateStatus status="PASSED" />
        <GateStatus status="NONE" />
      </>,
    );
    expect(screen.getByText('Failed')).toHaveClass('gate-failed');
    expect(screen.getByText('Passed')).toHaveClass('gate-passed');
    expect(screen.getByText('None')).toHaveClass('gate-none');
  });
});

describe('Target', () => {
  it('never shows a webhook path', () => {
    render(<Target channel="SLACK" target="https://hooks.slack.com/services/T0/B0/very-secret" />);
    expect(screen.getByText('https://hooks.slack.com/…')).toBeInTheDocument();
    expect(document.body.textContent).not.toContain('very-secret');
  });
});

describe('Field', () => {
  it('shows its error beside the input, as an alert', () => {
    render(
      <Field id="email-to" label="Email recipients" error="not an email address">
        <input id="email-to" />
      </Field>,
    );
    expect(screen.getByLabelText('Email recipients')).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent('not an email address');
    expect(screen.getByRole('alert').id).toBe('email-to-error');
  });
});
