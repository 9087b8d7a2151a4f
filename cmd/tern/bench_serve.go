package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	neturl "net/url"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tern/format"
	"tern/infer"
	"tern/kernels"
	"tern/quant"
	"tern/serve"
	"tern/tensor"
)

func init() {
	registerBench("serve", "serving throughput and latency for 1..64 concurrent clients on loopback (random packed weights)", benchServe)
}

// benchServe runs tern's HTTP server in-process on 127.0.0.1 over a random-weight packed model of a
// decode preset, and for each client count lets that many clients stream completions at once: every
// client sends --requests requests one after another. It reports aggregate generated tokens/s, time to
// first token and per-token latency (p50/p99, as the clients see them), and memory. First it times the
// batched ternary product three ways (one packed GEMV per row, one int8 GEMM, one packed batch GEMV)
// for B = 1..64 rows of the preset's FFN matrix, the measurement behind infer.Batch's choice.
func benchServe(ctx context.Context, args []string) error {
	fs := newFlags("bench serve", "bench serve --preset 100m|700m | --model FILE [--clients 1,4,16,64] [flags]")
	preset := fs.String("preset", "100m", "100m or 700m (BitNet-shaped decode presets); with --target only a label")
	clientsFlag := fs.String("clients", "1,4,16,64", "client counts to run, comma-separated")
	parallel := fs.Int("parallel", 0, "server slots (0 = the largest client count)")
	tokens := fs.Int("tokens", 32, "tokens each request generates")
	prompt := fs.Int("prompt", 16, "prompt tokens of each request")
	requests := fs.Int("requests", 2, "requests per client")
	warmup := fs.Int("warmup", 1, "untimed requests per client before each client count's timed ones (the slots' KV pages touched, the server in its steady state, as llama-bench warms up)")
	limit := fs.Duration("max-time", 3*time.Minute, "stop starting new client counts after this long")
	threads := fs.Int("threads", 0, "kernel threads (0 = all cores)")
	linear := fs.Bool("linear", true, "time the batched ternary product three ways first")
	asJSON := fs.Bool("json", false, "print one JSON object per line")
	target := fs.String("target", "", "instead of tern, load an OpenAI-compatible server already running on loopback, e.g. llama-server: its /v1/completions URL")
	prof := fs.String("cpuprofile", "", "write a CPU profile of the client runs (go tool pprof) to this file")
	extra := fs.String("extra-json", "", "extra request fields for --target, e.g. '\"ignore_eos\": true'")
	modelPath := fs.String("model", "", "instead of a random preset, serve this model file (GGUF, packed or training checkpoint, as tern serve loads it); prompts are the words of --target's")
	shared := fs.Bool("shared-prompt", false, "send every request the same prompt (a server that keeps prompt caches then prefills almost nothing); by default each request's first two tokens differ, so no cache is reused")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, ok := decodeShapes[*preset]
	if !ok && *modelPath == "" && *target == "" {
		return fmt.Errorf("--preset must be 100m or 700m, not %q", *preset)
	}
	var clients []int
	for _, f := range strings.Split(*clientsFlag, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 || c > 256 {
			return fmt.Errorf("--clients %q: want counts from 1 to 256", *clientsFlag)
		}
		clients = append(clients, c)
	}
	if *tokens < 2 || *prompt < 1 || *requests < 1 || *parallel < 0 || *warmup < 0 {
		return fmt.Errorf("--tokens >= 2, --prompt >= 1, --requests >= 1, --warmup >= 0 and --parallel >= 0 needed")
	}
	if *parallel == 0 {
		for _, c := range clients {
			*parallel = max(*parallel, c)
		}
	}
	if *target != "" {
		return benchServeTarget(ctx, *target, *extra, *preset, clients, *parallel, *tokens, *prompt, *requests, *warmup, *limit, *asJSON, *shared)
	}
	setThreads(*threads)
	if *modelPath != "" {
		return benchServeModel(ctx, *modelPath, clients, *parallel, *tokens, *prompt, *requests, *warmup, *limit, *asJSON, *prof, *shared)
	}
	if *linear {
		if err := benchBatchLinear(cfg.FFN, cfg.Hidden, *asJSON); err != nil {
			return err
		}
	}
	cfg.MaxPos = *prompt + *tokens + 1
	debug.FreeOSMemory()
	resetPeakRSS()
	pm, err := infer.RandomPacked(cfg, 1, format.F16)
	if err != nil {
		return err
	}
	b, err := infer.NewBatch(pm, *parallel, *parallel >= 4)
	if err != nil {
		return err
	}
	// Token ids are bytes of the prompt; every generated token reads as one letter, so each streamed
	// chunk is one token.
	m := serve.Model{Name: "bench-" + *preset, MaxPos: cfg.MaxPos, Decoder: b,
		Encode: func(s string) ([]int, error) {
			ids := make([]int, len(s))
			for i := range len(s) {
				ids[i] = int(s[i])
			}
			return ids, nil
		},
		Decode: func(ids []int) string { return strings.Repeat("a", len(ids)) },
	}
	h := serve.New(m, serve.Options{Queue: 256})
	defer h.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/v1/completions"
	body := promptBodies("x", "", "abcdefghijklmnopqrstuvwxyz", *prompt, *tokens, "", *shared) // byte tokens
	stop, err := startCPUProfile(*prof)
	if err != nil {
		return err
	}
	defer stop()
	return runLevels(ctx, "tern", url, body, *shared, *preset, clients, *parallel, *requests, *warmup, *limit, *asJSON)
}

// benchServeModel serves a model file in-process, as tern serve loads it (a KV cache of
// prompt+tokens+16 positions per slot for a GGUF file, as bench-serve.sh gives llama-server), with
// --target's prompt so both servers see the same text.
func benchServeModel(ctx context.Context, path string, clients []int, parallel, tokens, prompt, requests, warmup int, limit time.Duration, asJSON bool, prof string, shared bool) error {
	debug.FreeOSMemory()
	resetPeakRSS()
	var m serve.Model
	var closeModel func()
	var err error
	if isGGUF(path) {
		m, closeModel, err = serveGGUF(path, parallel, prompt+tokens+16, "")
	} else {
		m, closeModel, err = serveModel(path, "", parallel)
	}
	if err != nil {
		return err
	}
	defer closeModel()
	h := serve.New(m, serve.Options{Queue: 256})
	defer h.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	stop, err := startCPUProfile(prof)
	if err != nil {
		return err
	}
	defer stop()
	return runLevels(ctx, "tern", "http://"+ln.Addr().String()+"/v1/completions", wordsBody(prompt, tokens, "", shared), shared, m.Name, clients, parallel, requests, warmup, limit, asJSON)
}

// wordsBody gives request i's streamed greedy completion request, whose prompt is prompt words each
// one token of scripts/gguf-random.py's vocabulary ("▁b", "▁d", ...) and one word of a byte-level
// BPE's: "b b b ..." when shared, else with the first two words varying by request (13² prompts).
func wordsBody(prompt, tokens int, extra string, shared bool) func(int) string {
	return promptBodies("b", " ", "bdfhjlnprtvxz", prompt, tokens, extra, shared) // the single letters the random vocabulary has with "▁"
}

// promptBodies gives request i's streamed greedy completion request, its prompt prompt copies of
// unit joined by sep; unless shared, the first two units vary by request over alphabet's letters.
func promptBodies(unit, sep, alphabet string, prompt, tokens int, extra string, shared bool) func(int) string {
	if extra != "" {
		extra = ", " + extra
	}
	n := len(alphabet)
	return func(i int) string {
		u := slices.Repeat([]string{unit}, prompt)
		if !shared {
			u[0] = alphabet[i%n : i%n+1]
			if len(u) > 1 {
				u[1] = alphabet[i/n%n : i/n%n+1]
			}
		}
		return fmt.Sprintf(`{"prompt": %q, "max_tokens": %d, "temperature": 0, "stream": true%s}`, strings.Join(u, sep), tokens, extra)
	}
}

// benchServeTarget measures another server (llama-server) with the same clients.
func benchServeTarget(ctx context.Context, url, extra, preset string, clients []int, parallel, tokens, prompt, requests, warmup int, limit time.Duration, asJSON, shared bool) error {
	u, err := neturl.Parse(url)
	if err != nil || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") {
		return fmt.Errorf("--target %q: want a loopback URL such as http://127.0.0.1:8081/v1/completions", url)
	}
	return runLevels(ctx, "target", url, wordsBody(prompt, tokens, extra, shared), shared, preset, clients, parallel, requests, warmup, limit, asJSON)
}

// runLevels runs each client count against url and prints one result per count.
// body(i) is request i's JSON (i counts all requests of the run, warm-ups included).
func runLevels(ctx context.Context, server, url string, body func(int) string, shared bool, preset string, clients []int, parallel, requests, warmup int, limit time.Duration, asJSON bool) error {
	// A fresh connection per request for another server: llama-server closes idle keep-alive
	// connections, which a reusing client would see as EOF.
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 512, DisableKeepAlives: server != "tern"}}
	start := time.Now()
	var sent atomic.Int64 // requests sent so far: each one's prompt index
	for _, c := range clients {
		if time.Since(start) > limit || ctx.Err() != nil {
			break
		}
		if warmup > 0 { // untimed: the server's steady state (slots' KV pages touched), as llama-bench warms up
			if _, err := serveLevel(ctx, client, url, body, &sent, c, warmup); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
		}
		var m0 map[string]float64
		if server == "tern" {
			m0 = scrapeMetrics(client, url)
		}
		r, err := serveLevel(ctx, client, url, body, &sent, c, requests)
		if err != nil {
			return err
		}
		var stepMS, stepShare float64
		if server == "tern" { // where the wall time went: batched steps vs the rest (prefill, HTTP, sampling)
			m1 := scrapeMetrics(client, url)
			if n := m1["tern_decode_steps_total"] - m0["tern_decode_steps_total"]; n > 0 {
				d := m1["tern_decode_step_seconds_total"] - m0["tern_decode_step_seconds_total"]
				stepMS, stepShare = d/n*1e3, d/r.wall.Seconds()
			}
		}
		res := struct {
			Server     string  `json:"server"`
			Preset     string  `json:"preset"`
			Clients    int     `json:"clients"`
			Parallel   int     `json:"parallel"`
			Requests   int     `json:"requests"`
			Tokens     int     `json:"tokens"`
			TokensPerS float64 `json:"tokens_per_s"`
			TTFTp50    float64 `json:"ttft_p50_ms"`
			TTFTp99    float64 `json:"ttft_p99_ms"`
			TPOTp50    float64 `json:"per_token_p50_ms"`
			TPOTp99    float64 `json:"per_token_p99_ms"`
			RSSMB      int64   `json:"rss_mb,omitempty"`
			PeakRSSMB  int64   `json:"peak_rss_mb,omitempty"`
			Threads    int     `json:"threads,omitempty"`
			Shared     bool    `json:"shared_prompt"`
			StepMS     float64 `json:"step_ms,omitempty"`
			StepShare  float64 `json:"step_share,omitempty"`
			Features   string  `json:"features"`
		}{server, preset, c, parallel, r.requests, r.tokens, float64(r.tokens) / r.wall.Seconds(), pct(r.ttft, 50), pct(r.ttft, 99), pct(r.tpot, 50), pct(r.tpot, 99),
			0, 0, 0, shared, stepMS, stepShare, kernels.Features()}
		if server == "tern" { // the server runs in this process
			res.RSSMB, res.PeakRSSMB, res.Threads = rssMB("VmRSS:"), peakRSSMB(), kernels.Threads()
		}
		if err := printResult(asJSON, res, fmt.Sprintf("serve %s %s, %d clients x %d requests (%d slots): %.1f tokens/s; TTFT p50 %.1f ms p99 %.1f ms; per token p50 %.2f ms p99 %.2f ms; RSS %d MB (peak %d); %d threads (%s)%s%s",
			server, preset, c, requests, parallel, res.TokensPerS, res.TTFTp50, res.TTFTp99, res.TPOTp50, res.TPOTp99, res.RSSMB, res.PeakRSSMB, res.Threads, res.Features, stepNote(stepMS, stepShare), map[bool]string{true: "; every request the same prompt"}[shared])); err != nil {
			return err
		}
	}
	return nil
}

type levelResult struct {
	requests, tokens int
	wall             time.Duration
	ttft, tpot       []float64 // ms
}

// serveLevel runs c clients, each streaming n requests in turn.
func serveLevel(ctx context.Context, client *http.Client, url string, body func(int) string, sent *atomic.Int64, c, n int) (levelResult, error) {
	var mu sync.Mutex
	var res levelResult
	var firstErr error
	var wg sync.WaitGroup
	t0 := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				ttft, tpot, toks, err := streamOne(ctx, client, url, body(int(sent.Add(1)-1)))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				res.requests++
				res.tokens += toks
				res.ttft = append(res.ttft, ttft)
				if toks > 1 {
					res.tpot = append(res.tpot, tpot)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.wall = time.Since(t0)
	return res, firstErr
}

// streamOne sends one streaming request and times its chunks: one chunk per token here.
func streamOne(ctx context.Context, client *http.Client, url, body string) (ttft, tpot float64, tokens int, err error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("bench serve: status %d", resp.StatusCode)
	}
	var first, last, firstAny, lastAny time.Time
	usageTokens, chunks := 0, 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: {") {
			continue
		}
		if i := strings.Index(line, `"completion_tokens":`); i >= 0 { // the final chunk's usage
			fmt.Sscanf(line[i+len(`"completion_tokens":`):], "%d", &usageTokens)
		}
		if strings.Contains(line, `"text":`) && !strings.Contains(line, `"finish_reason":"`) {
			lastAny = time.Now()
			if firstAny.IsZero() {
				firstAny = lastAny
			}
			chunks++
		}
		if strings.Contains(line, `"text":""`) || !strings.Contains(line, `"text":"`) {
			continue // a chunk without text (llama-server holds back an incomplete character so)
		}
		last = time.Now()
		if first.IsZero() {
			first = last
		}
		tokens++
	}
	if first.IsZero() && !firstAny.IsZero() {
		// no chunk carried text (a random model's tokens may never complete a UTF-8 character, which
		// llama-server then holds back): time the chunks themselves, one per token, and count them
		// where the stream has no usage
		first, last = firstAny, lastAny
		if usageTokens == 0 {
			usageTokens = chunks
		}
	}
	if first.IsZero() {
		return 0, 0, 0, fmt.Errorf("bench serve: no tokens streamed")
	}
	if usageTokens > 0 {
		tokens = usageTokens
	}
	ttft = float64(first.Sub(t0).Microseconds()) / 1e3
	if tokens > 1 {
		tpot = float64(last.Sub(first).Microseconds()) / 1e3 / float64(tokens-1)
	}
	return ttft, tpot, tokens, sc.Err()
}

func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(math.Ceil(p/100*float64(len(s))))-1+boolInt(p == 0))]
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// benchBatchLinear times y (B, n) = x (B, k)·Wᵀ for a random ternary W four ways: B packed GEMVs
// (kernels.TernaryGemvF32, 1.6 bits/weight read B times), one int8 x ternary GEMM over a resident
// one-byte-per-weight matrix (kernels.BitLinearForward), one packed batch GEMV
// (kernels.TernaryGemvBatchF32, 1.6 bits/weight read once) and one product over 2-bit panels
// (kernels.TernaryPanelForward, 2 bits/weight read once), median of several runs each. "Hot" runs
// multiply one matrix that stays in cache; "cold" runs cycle through copies of it filling coldBytes,
// so each call reads its weights from memory, as a decoding step does.
func benchBatchLinear(n, k int, asJSON bool) error {
	const coldBytes = 128 << 20 // several times any L3 of the machines we measure on
	rng := tensor.NewRNG(3)
	t := make([]int8, n*k)
	for i := range t {
		t[i] = int8(rng.Intn(3) - 1)
	}
	copies := func(size int) int { return max(2, coldBytes/size) }
	packed := make([][]byte, copies(quant.RowBytes(k)*n))
	packed[0] = quant.PackTernary(t, 0.02, n, k).Data
	for i := 1; i < len(packed); i++ {
		packed[i] = slices.Clone(packed[0])
	}
	tms := make([]*kernels.TernaryMatrix, copies(n*k))
	for i := range tms {
		tms[i] = kernels.NewTernaryMatrix(t, n, k)
	}
	tps := make([]*kernels.TernaryPanels, copies(kernels.NewTernaryPanels(n, k).Bytes()))
	for i := range tps {
		tps[i] = kernels.NewTernaryPanels(n, k)
		tps[i].SetRows(0, t)
	}
	vec := kernels.NewGemvVec(k)
	acc := make([]int32, n)
	for _, B := range []int{1, 2, 4, 8, 16, 32, 64} {
		x := make([]float32, B*k)
		rng.FillNormal(x, 1)
		y := make([]float32, B*n)
		xq, xs := make([]int8, B*k), make([]float32, B)
		// med runs f(copy) 7 times (cold: on the next copy of the matrix each time) and returns the median ms.
		med := func(cold bool, nc int, f func(c int)) float64 {
			var ts []float64
			c := 0
			for range 7 {
				if cold {
					c = (c + 1) % nc
				}
				t0 := time.Now()
				f(c)
				ts = append(ts, time.Since(t0).Seconds())
			}
			sort.Float64s(ts)
			return ts[3] * 1e3
		}
		gemv := med(false, 1, func(int) {
			for i := range B {
				g := vec.SetFloat32(x[i*k : (i+1)*k])
				kernels.TernaryGemvF32(y[i*n:(i+1)*n], acc, packed[0], n, k, vec, 0.02, g)
			}
		})
		xb := kernels.NewGemvBatch(k, B)
		var ms [2][3]float64 // [hot, cold][gemm, packed batch, panels]
		for h, cold := range []bool{false, true} {
			ms[h][0] = med(cold, len(tms), func(c int) {
				kernels.QuantizeRowsInt8(xq, xs, x, B, k)
				kernels.BitLinearForward(y, xq, xs, tms[c], 0.02, B)
			})
			ms[h][1] = med(cold, len(packed), func(c int) {
				xb.SetFloat32(x, B)
				kernels.TernaryGemvBatchF32(y, nil, packed[c], n, k, xb, 0.02)
			})
			ms[h][2] = med(cold, len(tps), func(c int) {
				kernels.QuantizeRowsInt8(xq, xs, x, B, k)
				kernels.TernaryPanelForward(y, xq, xs, tps[c], 0.02, B)
			})
		}
		gmac := func(ms float64) float64 { return float64(B*n*k) / (ms / 1e3) / 1e9 / float64(kernels.Threads()) }
		res := struct {
			Bench  string  `json:"bench"`
			Rows   int     `json:"rows"`
			N      int     `json:"n"`
			K      int     `json:"k"`
			GemvMs float64 `json:"gemv_ms"`
			GemmMs float64 `json:"gemm_ms"`
			// BatchMs: one TernaryGemvBatch (packed, each block decoded once for all rows)
			BatchMs  float64 `json:"packed_batch_ms"`
			PanelsMs float64 `json:"panels_ms"`
			// Cold: each call on another copy of the matrix (weights from memory)
			GemmColdMs   float64 `json:"gemm_cold_ms"`
			BatchColdMs  float64 `json:"packed_batch_cold_ms"`
			PanelsColdMs float64 `json:"panels_cold_ms"`
			// G multiply-adds per second per thread of the hot and cold panel products
			PanelsGMAC     float64 `json:"panels_gmac_per_thread"`
			PanelsColdGMAC float64 `json:"panels_cold_gmac_per_thread"`
			Threads        int     `json:"threads"`
		}{"batch_linear", B, n, k, gemv, ms[0][0], ms[0][1], ms[0][2], ms[1][0], ms[1][1], ms[1][2], gmac(ms[0][2]), gmac(ms[1][2]), kernels.Threads()}
		if err := printResult(asJSON, res, fmt.Sprintf("batched ternary product (%d x %d) for %2d rows, ms hot/cold: %d packed GEMVs %.3f, int8 GEMM (1 B/w) %.3f/%.3f, packed batch GEMV (0.2 B/w) %.3f/%.3f, 2-bit panels (0.25 B/w) %.3f/%.3f = %.0f/%.0f G MAC/s/thread",
			n, k, B, B, gemv, ms[0][0], ms[1][0], ms[0][1], ms[1][1], ms[0][2], ms[1][2], gmac(ms[0][2]), gmac(ms[1][2]))); err != nil {
			return err
		}
	}
	return nil
}

// scrapeMetrics reads the counters of a tern server's /metrics (beside its /v1/completions URL);
// nil when they cannot be read (the figures that need them are then left out).
func scrapeMetrics(client *http.Client, completions string) map[string]float64 {
	resp, err := client.Get(strings.TrimSuffix(completions, "/v1/completions") + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok || strings.HasPrefix(name, "#") || strings.Contains(name, "{") {
			continue
		}
		if v, err := strconv.ParseFloat(val, 64); err == nil {
			m[name] = v
		}
	}
	return m
}

// stepNote is the text line's account of the batched steps: mean step time and their share of the wall.
func stepNote(ms, share float64) string {
	if ms == 0 {
		return ""
	}
	return fmt.Sprintf("; decode steps %.2f ms mean, %.0f%% of the wall", ms, share*100)
}
