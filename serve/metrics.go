package serve

import (
	"fmt"
	"io"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// metrics are the server's counters, gauges and histograms, written in Prometheus' text format
// (version 0.0.4) by GET /metrics.
type metrics struct {
	mu          sync.Mutex
	requests    map[[2]string]int64 // (endpoint, status code) -> count
	queueDepth  atomic.Int64
	busy        atomic.Int64
	slots       int
	promptToks  atomic.Int64
	cachedToks  atomic.Int64
	genToks     atomic.Int64
	steps       atomic.Int64
	stepSeconds atomic.Int64 // nanoseconds in Step
	ttft        histogram    // seconds from arrival to the first token
	perToken    histogram    // seconds between a request's tokens after the first
	recent      [10]struct {
		sec    int64
		tokens int64
	} // generated tokens per wall-clock second, the last 10 seconds
}

type histogram struct {
	bounds []float64
	counts []int64 // per bound, plus +Inf
	sum    float64
	n      int64
}

func newHistogram(bounds ...float64) histogram {
	return histogram{bounds: bounds, counts: make([]int64, len(bounds)+1)}
}

func (h *histogram) observe(v float64) {
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
}

func newMetrics(slots int) *metrics {
	lat := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
	return &metrics{requests: map[[2]string]int64{}, slots: slots, ttft: newHistogram(lat...), perToken: newHistogram(lat...)}
}

func (m *metrics) request(endpoint string, code int) {
	m.mu.Lock()
	m.requests[[2]string{endpoint, fmt.Sprint(code)}]++
	m.mu.Unlock()
}

// prompt counts a started request's prompt tokens, cached of them kept from a slot's cache.
func (m *metrics) prompt(n, cached int) {
	m.promptToks.Add(int64(n))
	m.cachedToks.Add(int64(cached))
}

// step records one decoding step.
func (m *metrics) step(d time.Duration) {
	m.steps.Add(1)
	m.stepSeconds.Add(d.Nanoseconds())
}

// tokens counts n generated tokens now.
func (m *metrics) tokens(n int) {
	m.genToks.Add(int64(n))
	now := time.Now().Unix()
	m.mu.Lock()
	r := &m.recent[now%int64(len(m.recent))]
	if r.sec != now {
		r.sec, r.tokens = now, 0
	}
	r.tokens += int64(n)
	m.mu.Unlock()
}

// done records a finished request's latencies.
func (m *metrics) done(ttft time.Duration, perToken time.Duration, tokens int) {
	m.mu.Lock()
	if ttft > 0 {
		m.ttft.observe(ttft.Seconds())
	}
	if tokens > 1 {
		m.perToken.observe(perToken.Seconds())
	}
	m.mu.Unlock()
}

func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := func(name, kind, help string) { fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, kind) }
	p("tern_requests_total", "counter", "HTTP requests answered, by endpoint and status code.")
	keys := make([][2]string, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	for _, k := range keys {
		fmt.Fprintf(w, "tern_requests_total{endpoint=%q,code=%q} %d\n", k[0], k[1], m.requests[k])
	}
	p("tern_prompt_tokens_total", "counter", "Prompt tokens processed.")
	fmt.Fprintf(w, "tern_prompt_tokens_total %d\n", m.promptToks.Load())
	p("tern_prompt_tokens_cached_total", "counter", "Prompt tokens not prefilled: a slot's cache already held them (a shared prefix with its previous request).")
	fmt.Fprintf(w, "tern_prompt_tokens_cached_total %d\n", m.cachedToks.Load())
	p("tern_generated_tokens_total", "counter", "Tokens generated.")
	fmt.Fprintf(w, "tern_generated_tokens_total %d\n", m.genToks.Load())
	p("tern_decode_steps_total", "counter", "Batched decoding steps run.")
	fmt.Fprintf(w, "tern_decode_steps_total %d\n", m.steps.Load())
	p("tern_decode_step_seconds_total", "counter", "Seconds spent in batched decoding steps.")
	fmt.Fprintf(w, "tern_decode_step_seconds_total %g\n", float64(m.stepSeconds.Load())/1e9)
	p("tern_queue_depth", "gauge", "Requests waiting for a slot.")
	fmt.Fprintf(w, "tern_queue_depth %d\n", m.queueDepth.Load())
	p("tern_slots_busy", "gauge", "Slots decoding a request.")
	fmt.Fprintf(w, "tern_slots_busy %d\n", m.busy.Load())
	p("tern_slots", "gauge", "Slots (--parallel).")
	fmt.Fprintf(w, "tern_slots %d\n", m.slots)
	p("tern_generated_tokens_per_second", "gauge", "Tokens generated per second over the last 10 seconds, all requests together.")
	now := time.Now().Unix()
	var sum int64
	for _, r := range m.recent {
		if r.sec > now-int64(len(m.recent)) && r.sec <= now {
			sum += r.tokens
		}
	}
	fmt.Fprintf(w, "tern_generated_tokens_per_second %g\n", float64(sum)/float64(len(m.recent)))
	hist := func(name, help string, h *histogram) {
		p(name, "histogram", help)
		var c int64
		for i, b := range h.bounds {
			c += h.counts[i]
			fmt.Fprintf(w, "%s_bucket{le=\"%g\"} %d\n", name, b, c)
		}
		fmt.Fprintf(w, "%s_bucket{le=\"+Inf\"} %d\n%s_sum %g\n%s_count %d\n", name, h.n, name, h.sum, name, h.n)
	}
	hist("tern_time_to_first_token_seconds", "Seconds from a request's arrival to its first token (queueing and prompt included).", &m.ttft)
	hist("tern_time_per_output_token_seconds", "Mean seconds between a request's tokens after the first, one observation per request.", &m.perToken)
}
