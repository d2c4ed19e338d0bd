import { errorAttributes, Field } from './ui';

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'none', 'unknown'] as const;
export type SeverityKey = (typeof SEVERITIES)[number];
export type ThresholdValues = Record<SeverityKey, string>;
type Thresholds = Partial<Record<SeverityKey, number | null>>;

export function thresholdValues(t: Thresholds | null | undefined): ThresholdValues {
  const out = {} as ThresholdValues;
  for (const s of SEVERITIES) out[s] = t?.[s] == null ? '' : String(t[s]);
  return out;
}

/** Form strings to `ThresholdsInput`: empty means null. */
export function thresholdsInput(v: ThresholdValues): Record<SeverityKey, number | null> {
  const out = {} as Record<SeverityKey, number | null>;
  for (const s of SEVERITIES) out[s] = v[s].trim() === '' ? null : Number(v[s]);
  return out;
}

/** One number input per severity; errors come as `thresholds.<severity>`. */
export function ThresholdsFields({
  idPrefix,
  value,
  onChange,
  errors,
  disabled,
}: {
  idPrefix: string;
  value: ThresholdValues;
  onChange(v: ThresholdValues): void;
  errors: Record<string, string>;
  disabled?: boolean;
}) {
  return (
    <fieldset className="thresholds">
      <legend>Thresholds (most open observations allowed)</legend>
      {SEVERITIES.map((s) => (
        <Field key={s} id={`${idPrefix}-${s}`} label={s.charAt(0).toUpperCase() + s.slice(1)} error={errors[`thresholds.${s}`]}>
          <input
            id={`${idPrefix}-${s}`}
            type="number"
            inputMode="numeric"
            value={value[s]}
            disabled={disabled}
            {...errorAttributes(`${idPrefix}-${s}`, errors[`thresholds.${s}`])}
            onChange={(e) => onChange({ ...value, [s]: e.target.value })}
          />
        </Field>
      ))}
    </fieldset>
  );
}
