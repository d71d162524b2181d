import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/monitoring/metrics.js';

/** The value of the sample line `name{labels}` in exposition text (labels in declaration order). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('Metrics', () => {
  it('counts request latencies into the millisecond buckets', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.observeRequest('/recommend/:userId', 'GET', 200, 0.0004, 'home');
    m.observeRequest('/recommend/:userId', 'GET', 200, 0.003, 'home');
    m.observeRequest('/recommend/:userId', 'GET', 200, 2, 'home');
    m.observeRequest('/events', 'POST', 400, 0.01);
    const text = await m.metricsText();
    const labels = 'route="/recommend/:userId",method="GET",status="2xx",placement="home"';
    expect(sample(text, `http_request_duration_seconds_bucket{le="0.0005",${labels}}`)).toBe(1);
    expect(sample(text, `http_request_duration_seconds_bucket{le="0.001",${labels}}`)).toBe(1);
    expect(sample(text, `http_request_duration_seconds_bucket{le="0.005",${labels}}`)).toBe(2);
    expect(sample(text, `http_request_duration_seconds_bucket{le="1",${labels}}`)).toBe(2);
    expect(sample(text, `http_request_duration_seconds_bucket{le="+Inf",${labels}}`)).toBe(3);
    expect(sample(text, `http_request_duration_seconds_count{${labels}}`)).toBe(3);
    expect(sample(text, `http_request_duration_seconds_sum{${labels}}`)).toBeCloseTo(2.0034, 10);
    expect(
      sample(
        text,
        'http_request_duration_seconds_count{route="/events",method="POST",status="4xx",placement="none"}',
      ),
    ).toBe(1);
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('counts recommendations, candidate sources and their hit rates', async () => {
    const m = new Metrics({ defaultMetrics: false });
    m.observeRecommendation('home', 0.002, { als: 100, popular: 50, fresh: 0 }, [
      ['als'],
      ['als', 'popular'],
      ['popular'],
    ]);
    m.observeRecommendation('home', 0.004, { als: 100 }, [['als']]);
    const text = await m.metricsText();
    expect(sample(text, 'recommendations_served_total{placement="home"}')).toBe(2);
    expect(sample(text, 'recommended_items_total{placement="home"}')).toBe(4);
    expect(sample(text, 'recommendation_duration_seconds_count{placement="home"}')).toBe(2);
    expect(sample(text, 'candidate_source_proposed_total{source="als"}')).toBe(200);
    expect(sample(text, 'candidate_source_shown_total{source="als"}')).toBe(3);
    expect(sample(text, 'candidate_source_hit_rate{source="als"}')).toBeCloseTo(3 / 200, 12);
    expect(sample(text, 'candidate_source_hit_rate{source="popular"}')).toBeCloseTo(2 / 50, 12);
    // a source that proposed nothing has no rate
    expect(sample(text, 'candidate_source_hit_rate{source="fresh"}')).toBeUndefined();
  });

  it('counts events by type, rejections, cache look-ups and model age', async () => {
    const m = new Metrics({
      defaultMetrics: false,
      now: () => 1_000_000,
      models: () => [{ model: 'als', trainedAt: 400_000 }],
    });
    m.eventsIngested(['view', 'view', 'click']);
    m.eventsRejected(2);
    m.eventsRejected(0);
    m.cacheLookups('features', 3, 1);
    m.cacheRequest('features', false);
    const text = await m.metricsText();
    expect(sample(text, 'events_ingested_total{type="view"}')).toBe(2);
    expect(sample(text, 'events_ingested_total{type="click"}')).toBe(1);
    expect(sample(text, 'events_rejected_total')).toBe(2);
    expect(sample(text, 'cache_requests_total{cache="features",result="hit"}')).toBe(3);
    expect(sample(text, 'cache_requests_total{cache="features",result="miss"}')).toBe(2);
    expect(sample(text, 'cache_hit_ratio{cache="features"}')).toBeCloseTo(0.6, 12);
    expect(sample(text, 'model_age_seconds{model="als"}')).toBe(600);
  });

  it('reads the model provider at each scrape and drops models no longer served', async () => {
    let models = [{ model: 'als', trainedAt: 0 }];
    const m = new Metrics({ defaultMetrics: false, now: () => 10_000, models: () => models });
    expect(sample(await m.metricsText(), 'model_age_seconds{model="als"}')).toBe(10);
    models = [{ model: 'bpr', trainedAt: 5_000 }];
    const text = await m.metricsText();
    expect(sample(text, 'model_age_seconds{model="als"}')).toBeUndefined();
    expect(sample(text, 'model_age_seconds{model="bpr"}')).toBe(5);
  });

  it('caps the values of free-form labels', async () => {
    const m = new Metrics({ defaultMetrics: false, maxLabelValues: 2 });
    for (const p of ['home', 'cart', 'x1', 'x2']) m.observeRecommendation(p, 0.001, {}, []);
    const text = await m.metricsText();
    expect(sample(text, 'recommendations_served_total{placement="home"}')).toBe(1);
    expect(sample(text, 'recommendations_served_total{placement="cart"}')).toBe(1);
    expect(sample(text, 'recommendations_served_total{placement="other"}')).toBe(2);
  });

  it('publishes drift checks and keeps registries apart', async () => {
    const a = new Metrics({ defaultMetrics: true });
    const b = new Metrics({ defaultMetrics: true, prefix: 'kindred_' });
    a.observeDrift([{ name: 'score_psi', value: 0.3, status: 'alert' }]);
    const ta = await a.metricsText();
    const tb = await b.metricsText();
    expect(sample(ta, 'drift_statistic{check="score_psi"}')).toBe(0.3);
    expect(sample(ta, 'drift_status{check="score_psi"}')).toBe(2);
    expect(tb).not.toContain('drift_statistic{');
    expect(ta).toContain('process_cpu_user_seconds_total');
    expect(tb).toContain('kindred_process_cpu_user_seconds_total');
    expect(a.contentType).toContain('text/plain');
    expect(a.contentType).toContain('version=0.0.4');
  });
});
