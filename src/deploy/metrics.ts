// Prometheus text exposition (format 0.0.4) of what the server counts: requests by route, method and
// status, and a histogram of prediction latency (queue wait included) by model.
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

const label = (v: string): string => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #latency = new Map<string, { counts: number[]; sum: number; count: number }>();

  request(route: string, method: string, status: number): void {
    const k = `route="${label(route)}",method="${method}",status="${status}"`;
    this.#requests.set(k, (this.#requests.get(k) ?? 0) + 1);
  }

  prediction(model: string, seconds: number): void {
    let h = this.#latency.get(model);
    if (h === undefined) this.#latency.set(model, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => { if (seconds <= b) h.counts[i]!++; });
    h.sum += seconds;
    h.count++;
  }

  text(gauges: Readonly<Record<string, number>> = {}): string {
    const out = ["# HELP umbra_http_requests_total HTTP requests by route, method and status.", "# TYPE umbra_http_requests_total counter"];
    for (const [k, v] of this.#requests) out.push(`umbra_http_requests_total{${k}} ${v}`);
    out.push("# HELP umbra_prediction_seconds Prediction latency (queue wait and evaluation) by model.", "# TYPE umbra_prediction_seconds histogram");
    for (const [model, h] of this.#latency) {
      const m = `model="${label(model)}"`;
      BUCKETS.forEach((b, i) => out.push(`umbra_prediction_seconds_bucket{${m},le="${b}"} ${h.counts[i]}`));
      out.push(`umbra_prediction_seconds_bucket{${m},le="+Inf"} ${h.count}`, `umbra_prediction_seconds_sum{${m}} ${h.sum}`, `umbra_prediction_seconds_count{${m}} ${h.count}`);
    }
    for (const [name, v] of Object.entries(gauges)) out.push(`# TYPE ${name} gauge`, `${name} ${v}`);
    return out.join("\n") + "\n";
  }
}
