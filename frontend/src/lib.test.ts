import { describe, expect, it } from 'vitest';
import { CombinedError } from 'urql';
import { fieldErrors, filtersFromParams, filtersToParams, maskTarget, matchesFilters, roleAtLeast } from './lib';
import { isExpired, tokenExpiry } from './auth';

describe('inbox filters and the URL', () => {
  it('defaults to unviewed only, with nothing in the URL', () => {
    const f = filtersFromParams(new URLSearchParams(''));
    expect(f).toEqual({ type: null, productId: null, search: '', unviewedOnly: true, after: null });
    expect(filtersToParams(f).toString()).toBe('');
  });

  it('round-trips every filter', () => {
    const params = new URLSearchParams('type=EXCEPTION&product=7&q=openssl&unviewed=0&after=abc');
    const f = filtersFromParams(params);
    expect(f).toEqual({ type: 'EXCEPTION', productId: '7', search: 'openssl', unviewedOnly: false, after: 'abc' });
    expect(filtersFromParams(filtersToParams(f))).toEqual(f);
  });

  it('ignores an unknown type', () => {
    expect(filtersFromParams(new URLSearchParams('type=BOGUS')).type).toBeNull();
  });

  it('decides whether a live notification belongs in the list', () => {
    const n = { type: 'SECURITY_GATE' as const, name: 'Security gate has changed to Failed', viewed: false, product: { id: '3', name: 'Payments' } };
    const all = filtersFromParams(new URLSearchParams(''));
    expect(matchesFilters(n, all)).toBe(true);
    expect(matchesFilters(n, { ...all, type: 'TASK' })).toBe(false);
    expect(matchesFilters(n, { ...all, productId: '4' })).toBe(false);
    expect(matchesFilters(n, { ...all, search: 'payments' })).toBe(true);
    expect(matchesFilters(n, { ...all, search: 'zlib' })).toBe(false);
    expect(matchesFilters({ ...n, viewed: true }, all)).toBe(false);
    expect(matchesFilters({ ...n, viewed: true }, { ...all, unviewedOnly: false })).toBe(true);
  });
});

describe('masked targets', () => {
  it('keeps addresses and hides webhook paths', () => {
    expect(maskTarget('EMAIL', 'sec@example.com')).toBe('sec@example.com');
    expect(maskTarget('SLACK', 'https://hooks.slack.com/services/T0/B0/secret')).toBe('https://hooks.slack.com/…');
    expect(maskTarget('MS_TEAMS', 'https://example.webhook.office.com/webhookb2/abc?x=1')).toBe('https://example.webhook.office.com/…');
    expect(maskTarget('SLACK', 'not a url')).toBe('…');
  });
});

describe('field errors', () => {
  it('puts BAD_USER_INPUT errors under their field and the rest under form', () => {
    const error = new CombinedError({
      graphQLErrors: [
        { message: 'notificationEmailTo: "x" is not an email address', extensions: { code: 'BAD_USER_INPUT', field: 'notificationEmailTo' } },
        { message: 'thresholds.critical: must be between 0 and 999999', extensions: { code: 'BAD_USER_INPUT', field: 'thresholds.critical' } },
        { message: 'forbidden', extensions: { code: 'FORBIDDEN' } },
      ],
    });
    expect(fieldErrors(error)).toEqual({
      notificationEmailTo: '"x" is not an email address',
      'thresholds.critical': 'must be between 0 and 999999',
      form: 'forbidden',
    });
    expect(fieldErrors(undefined)).toEqual({});
  });
});

describe('roles', () => {
  it('ranks roles and lets administrators do everything', () => {
    expect(roleAtLeast('OWNER', 'MAINTAINER')).toBe(true);
    expect(roleAtLeast('WRITER', 'MAINTAINER')).toBe(false);
    expect(roleAtLeast(null, 'READER')).toBe(false);
    expect(roleAtLeast(null, 'OWNER', true)).toBe(true);
  });
});

describe('token expiry', () => {
  const token = (exp: number) => `x.${btoa(JSON.stringify({ sub: '1', exp })).replace(/=+$/, '')}.sig`;
  it('reads exp and compares it with now', () => {
    expect(tokenExpiry(token(100))).toBe(100_000);
    expect(isExpired(token(100), 100_001)).toBe(true);
    expect(isExpired(token(100), 99_000)).toBe(false);
    expect(tokenExpiry('garbage')).toBeNull();
  });
});
