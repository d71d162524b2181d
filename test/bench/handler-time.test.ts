import { describe, expect, it } from 'vitest';
import { describeHandlerTime, parseHandlerBuckets } from '../../bench/serve/handler-time.js';

const ROUTE = '/recommend/:userId';

/** Cumulative counts per bucket for two label sets of the route and one of another route. */
function exposition(home: number[], email: number[]): string {
  const les = ['0.001', '0.005', '0.01', '0.025', '+Inf'];
  const lines = ['# TYPE http_request_duration_seconds histogram'];
  les.forEach((le, i) => {
    lines.push(
      `http_request_duration_seconds_bucket{le="${le}",route="${ROUTE}",method="GET",status="2xx",placement="home"} ${home[i]}`,
    );
    lines.push(
      `http_request_duration_seconds_bucket{le="${le}",route="${ROUTE}",method="GET",status="2xx",placement="email"} ${email[i]}`,
    );
    lines.push(
      `http_request_duration_seconds_bucket{le="${le}",route="/health",method="GET",status="2xx",placement=""} 1000`,
    );
  });
  lines.push(
    `http_request_duration_seconds_sum{route="${ROUTE}",method="GET",status="2xx",placement="home"} 1.5`,
  );
  return lines.join('\n');
}

describe('time in the server handler from /metrics', () => {
  it('sums the route over its other labels per bucket, leaving other routes out', () => {
    const b = parseHandlerBuckets(exposition([1, 5, 8, 9, 10], [0, 1, 2, 2, 2]), ROUTE);
    expect([...b.entries()]).toEqual([
      [0.001, 1],
      [0.005, 6],
      [0.01, 10],
      [0.025, 11],
      [Infinity, 12],
    ]);
  });

  it('reports the share within the bound and the bucket of the 99th percentile between two readings', () => {
    const before = parseHandlerBuckets(exposition([10, 10, 10, 10, 10], [0, 0, 0, 0, 0]), ROUTE);
    // 1,000 new requests: 900 within 5 ms, 985 within 10 ms, 995 within 25 ms.
    const after = parseHandlerBuckets(exposition([10, 910, 995, 1005, 1010], [0, 0, 0, 0, 0]), ROUTE);
    expect(describeHandlerTime(before, after, 10)).toBe(
      "time in the server's handler: 98.5% within 10 ms, p99 ≤ 25 ms (1000 requests)",
    );
    const slow = parseHandlerBuckets(exposition([10, 10, 10, 10, 1010], [0, 0, 0, 0, 0]), ROUTE);
    expect(describeHandlerTime(before, slow, 10)).toMatch(/0\.0% within 10 ms, p99 over the largest bucket/);
  });

  it('says so when a reading is missing or nothing was observed', () => {
    const b = parseHandlerBuckets(exposition([1, 1, 1, 1, 1], [0, 0, 0, 0, 0]), ROUTE);
    expect(describeHandlerTime(null, b, 10)).toMatch(/not read/);
    expect(describeHandlerTime(b, parseHandlerBuckets('', ROUTE), 10)).toMatch(/not read/);
    expect(describeHandlerTime(b, b, 10)).toMatch(/no request observed/);
  });
});
