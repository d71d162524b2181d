import { describe, expect, it } from 'vitest';
import {
  MAX_TIMESTAMP,
  parseIsoTimestamp,
  parseTimestampText,
  toPublishedAt,
  toTimestamp,
} from '../../src/ingest/timestamps.js';

describe('parseIsoTimestamp', () => {
  it('reads dates, date-times, fractions and zones', () => {
    expect(parseIsoTimestamp('2024-03-05')).toBe(Date.UTC(2024, 2, 5));
    expect(parseIsoTimestamp('2024-03-05T10:20:30Z')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30));
    expect(parseIsoTimestamp('2024-03-05T10:20:30.123Z')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30, 123));
    expect(parseIsoTimestamp('2024-03-05T10:20:30.1234567Z')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30, 123));
    expect(parseIsoTimestamp('2024-03-05T10:20:30.5Z')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30, 500));
    expect(parseIsoTimestamp('2024-03-05T12:20:30+02:00')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30));
    expect(parseIsoTimestamp('2024-03-05T05:20:30-0500')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30));
    expect(parseIsoTimestamp('2024-03-05 10:20')).toBe(Date.UTC(2024, 2, 5, 10, 20));
  });

  it('reads a time without zone as UTC', () => {
    expect(parseIsoTimestamp('2024-03-05T10:20:30')).toBe(Date.UTC(2024, 2, 5, 10, 20, 30));
  });

  it('rejects impossible dates and other formats', () => {
    for (const text of [
      '2023-02-29',
      '2024-02-30',
      '2024-13-01',
      '2024-00-10',
      '2024-01-01T24:00:00Z',
      '2024-01-01T10:60Z',
      '03/05/2024',
      'March 5 2024',
      '2024-3-5',
      '',
      '1700000000',
      '2024-01-01T10:00:00+25:00',
    ]) {
      expect(parseIsoTimestamp(text), text).toBeNaN();
    }
    expect(parseIsoTimestamp('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });
});

describe('toTimestamp', () => {
  it('keeps epoch ms inside 1970..2200 and rounds fractions', () => {
    expect(toTimestamp(0)).toBe(0);
    expect(toTimestamp(1_700_000_000_000.4)).toBe(1_700_000_000_000);
    expect(toTimestamp(MAX_TIMESTAMP)).toBe(Date.UTC(2200, 11, 31, 23, 59, 59, 999));
  });

  it('rejects out-of-range and non-finite values', () => {
    expect(toTimestamp(-1)).toBeNaN();
    expect(toTimestamp(MAX_TIMESTAMP + 1)).toBeNaN();
    expect(toTimestamp(Number.NaN)).toBeNaN();
    expect(toTimestamp(Number.POSITIVE_INFINITY)).toBeNaN();
    expect(toTimestamp('1969-12-31T23:59:59Z')).toBeNaN();
    expect(toTimestamp('2201-01-01')).toBeNaN();
  });

  it('lets publication dates reach back before 1970', () => {
    expect(toPublishedAt('1922-01-01')).toBe(Date.UTC(1922, 0, 1));
    expect(toPublishedAt('0800-06-01')).toBe(new Date(0).setUTCFullYear(800, 5, 1));
    expect(toPublishedAt('2201-01-01')).toBeNaN();
  });
});

describe('parseTimestampText', () => {
  it('reads each unit', () => {
    expect(parseTimestampText('881250949', 's')).toBe(881_250_949_000);
    expect(parseTimestampText('881250949.5', 's')).toBe(881_250_949_500);
    expect(parseTimestampText('881250949000', 'ms')).toBe(881_250_949_000);
    expect(parseTimestampText('1997-12-04T15:55:49Z', 'iso')).toBe(881_250_949_000);
    expect(parseTimestampText('881250949', 'auto')).toBe(881_250_949_000);
    expect(parseTimestampText('881250949000', 'auto')).toBe(881_250_949_000);
    expect(parseTimestampText('1997-12-04T15:55:49Z', 'auto')).toBe(881_250_949_000);
  });

  it('rejects empty and mistyped cells', () => {
    expect(parseTimestampText('', 's')).toBeNaN();
    expect(parseTimestampText('', 'auto')).toBeNaN();
    expect(parseTimestampText('abc', 'ms')).toBeNaN();
    expect(parseTimestampText('881250949', 'iso')).toBeNaN();
    expect(parseTimestampText('99999999999', 's')).toBeNaN();
  });
});
