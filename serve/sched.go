package serve

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"tern/infer"
	"tern/kernels"
)

// The scheduler: one goroutine owns the model's Decoder and runs continuous batching. Each loop it
// admits queued requests into free slots (prefilling their prompts together when the decoder can, and
// sampling each one's first token; admitting again while more arrived meanwhile and slots are free), then
// runs one Step for all active slots together and samples each slot's next token with the request's
// own sampler. A request leaves its slot as soon as it has its tokens, its slot's context is full, or
// its handler cancels it (client gone, stop string found, timeout): cancellation is checked before
// every step, so a departed client's slot is free at the next step. Tokens go to the handler through a
// channel with room for all of them, so a slow client never holds up the batch.

// job is one request's generation.
type job struct {
	prompt  []int
	n       int
	sampler *infer.Sampler
	out     chan event    // capacity n+1: the scheduler never blocks on it
	cancel  chan struct{} // closed by the handler: stop generating
	once    sync.Once
	queued  time.Time
	cached  int // prompt tokens whose cache a slot kept (set before the first event is sent)
}

// event is a token, or the end: finish "length" (max_tokens or a full context) or err.
type event struct {
	id     int
	finish string
	err    error
}

func (j *job) stop() { j.once.Do(func() { close(j.cancel) }) }

func (j *job) cancelled() bool {
	select {
	case <-j.cancel:
		return true
	default:
		return false
	}
}

// active is a job in a slot: its last sampled token is fed at the next step.
type active struct {
	j    *job
	slot int
	keep int // prompt tokens whose cache the slot kept from before (Resumer)
	last int
	next int // sampled from the last step's logits, not yet sent
	sent int
}

type scheduler struct {
	dec   infer.Decoder
	queue chan *job
	met   *metrics
	many  []float32 // the logits of the last batched start, or nil
	// fed[slot] is the tokens whose keys and values the slot's cache holds, in order (a finished
	// request's prompt and all it generated but its last token), or nil when unknown; a Resumer
	// keeps the longest prefix of them that a new prompt shares.
	fed [][]int
}

// submit queues j, or reports false when the queue is full.
func (s *scheduler) submit(j *job) bool {
	select {
	case s.queue <- j:
		s.met.queueDepth.Add(1)
		return true
	default:
		return false
	}
}

// run decodes until ctx is done.
func (s *scheduler) run(ctx context.Context) {
	free := make([]int, s.dec.Slots())
	for i := range free {
		free[i] = len(free) - 1 - i
	}
	var act []*active
	var slots, ids []int
	V := s.dec.Vocab()
	_, resumer := s.dec.(infer.Resumer)
	s.fed = make([][]int, s.dec.Slots())
	var adm []*active
	for {
		adm = adm[:0]
		for len(free) > 0 { // admit: take every queued request a slot can hold
			var j *job
			if len(act) == 0 && len(adm) == 0 {
				select {
				case j = <-s.queue:
				case <-ctx.Done():
					return
				}
			} else {
				select {
				case j = <-s.queue:
				default:
				}
			}
			if j == nil {
				break
			}
			s.met.queueDepth.Add(-1)
			if j.cancelled() {
				close(j.out)
				continue
			}
			k, keep := s.pick(free, j.prompt, resumer)
			slot := free[k]
			free = append(free[:k], free[k+1:]...)
			adm = append(adm, &active{j: j, slot: slot, keep: keep})
		}
		for i, a := range adm { // prefill them together, sample each one's first token
			logits, err := s.started(adm, i)
			s.fed[a.slot] = nil
			if err == nil {
				s.met.prompt(len(a.j.prompt), a.keep)
				s.fed[a.slot] = slices.Clone(a.j.prompt)
				a.j.cached = a.keep
			}
			if !s.emit(a, logits, err) {
				free = append(free, a.slot)
				continue
			}
			act = append(act, a)
		}
		if len(adm) > 0 && len(free) > 0 && len(s.queue) > 0 {
			// Requests arrived while these prefilled (clients of a burst trail its first): start
			// them before the next step, in one more batched prefill, rather than after it. Each
			// round takes a free slot, so steps wait for at most as many rounds as there are slots.
			continue
		}
		kept := act[:0]
		for _, a := range act { // leave at once when cancelled
			if a.j.cancelled() {
				close(a.j.out)
				free = append(free, a.slot)
				continue
			}
			kept = append(kept, a)
		}
		act = kept
		if len(act) == 0 {
			continue
		}
		slots, ids = slots[:0], ids[:0]
		for _, a := range act {
			slots, ids = append(slots, a.slot), append(ids, a.last)
		}
		s.met.busy.Store(int64(len(act)))
		start := time.Now()
		logits, err := s.step(slots, ids)
		s.met.step(time.Since(start))
		for i, a := range act {
			if err != nil {
				s.fed[a.slot] = nil
			} else {
				s.fed[a.slot] = append(s.fed[a.slot], ids[i])
			}
		}
		if err == nil { // each slot's own sampler on its own row: rows in parallel, tokens as alone
			kernels.ParallelFor(len(act), 1, func(lo, hi int) {
				for i := lo; i < hi; i++ {
					act[i].next = act[i].j.sampler.Next(logits[i*V : (i+1)*V])
				}
			})
		}
		kept = act[:0]
		for _, a := range act {
			if s.send(a, err) {
				kept = append(kept, a)
			} else {
				free = append(free, a.slot)
			}
		}
		act = kept
		s.met.busy.Store(int64(len(act)))
	}
}

// started returns the logits of adm[i]'s first token. At i == 0 it starts all of adm: in one batched
// prefill when some keep a prefix of their slot's cache (ResumeMany, the others keeping nothing) or
// the decoder has StartMany and there are several (the weights read once for all prompts), else (or
// if that fails, to find whose request failed) each on its own, whole, as asked.
func (s *scheduler) started(adm []*active, i int) ([]float32, error) {
	V := s.dec.Vocab()
	if i == 0 {
		s.many = nil
		if rs, ok := s.dec.(infer.Resumer); ok && slices.ContainsFunc(adm, func(a *active) bool { return a.keep > 0 }) {
			slots, keep, rests := make([]int, len(adm)), make([]int, len(adm)), make([][]int, len(adm))
			for k, a := range adm {
				slots[k], keep[k], rests[k] = a.slot, a.keep, a.j.prompt[a.keep:]
			}
			if l, err := s.resumeMany(rs, slots, keep, rests); err == nil {
				s.many = l
			} else {
				for _, a := range adm { // each starts afresh below
					a.keep = 0
				}
			}
		} else if ms, ok := s.dec.(infer.ManyStarter); ok && len(adm) > 1 {
			slots, prompts := make([]int, len(adm)), make([][]int, len(adm))
			for k, a := range adm {
				slots[k], prompts[k] = a.slot, a.j.prompt
			}
			if l, err := s.startMany(ms, slots, prompts); err == nil {
				s.many = l
			}
		}
	}
	if s.many != nil {
		return s.many[i*V : (i+1)*V], nil
	}
	return s.start(adm[i].slot, adm[i].j.prompt)
}

// start, startMany and step call the decoder, turning a panic (a bug) into an error for the requests
// involved rather than a crash of the server.
func (s *scheduler) start(slot int, prompt []int) (l []float32, err error) {
	defer recoverInto(&err)
	return s.dec.Start(slot, prompt)
}

func (s *scheduler) startMany(ms infer.ManyStarter, slots []int, prompts [][]int) (l []float32, err error) {
	defer recoverInto(&err)
	return ms.StartMany(slots, prompts)
}

func (s *scheduler) resumeMany(rs infer.Resumer, slots, keep []int, rests [][]int) (l []float32, err error) {
	defer recoverInto(&err)
	return rs.ResumeMany(slots, keep, rests)
}

func (s *scheduler) step(slots, ids []int) (l []float32, err error) {
	defer recoverInto(&err)
	return s.dec.Step(slots, ids)
}

func recoverInto(err *error) {
	if v := recover(); v != nil {
		*err = fmt.Errorf("internal error: %v", v)
	}
}

// emit samples a's next token from logits and sends it; it reports whether a stays in its slot.
func (s *scheduler) emit(a *active, logits []float32, err error) bool {
	if err == nil {
		a.next = a.j.sampler.Next(logits)
	}
	return s.send(a, err)
}

// send sends a's sampled token a.next (or err); it reports whether a stays in its slot.
func (s *scheduler) send(a *active, err error) bool {
	j := a.j
	if err != nil {
		j.out <- event{err: err}
		close(j.out)
		return false
	}
	a.last = a.next
	a.sent++
	s.met.tokens(1)
	j.out <- event{id: a.last}
	if a.sent >= j.n || s.dec.Room(a.slot) <= 1 {
		j.out <- event{finish: "length"}
		close(j.out)
		return false
	}
	return true
}

// errQueueFull is answered with 503.
var errQueueFull = fmt.Errorf("server busy: the request queue is full; retry later")

// pick chooses request prompt's slot among free (in the order the slots were freed, never-used ones
// first) and how many of its cached tokens to keep. With a Resumer, the slot whose cache shares the
// longest prefix of at least minKeep tokens; else the used slot freed longest ago, so recent
// conversations keep their caches as long as the busy slots allow; a never-used slot (its KV pages
// not yet touched: a one-client load rotating through 16 slots ran 10% slower at 700M) only when no
// used one is free.
func (s *scheduler) pick(free, prompt []int, resumer bool) (k, keep int) {
	if !resumer {
		return len(free) - 1, 0
	}
	k = -1
	for i, sl := range free {
		if n := sharedPrefix(s.fed[sl], prompt); n > keep && n >= minKeep {
			k, keep = i, n
		}
	}
	if k >= 0 {
		return k, keep
	}
	for i, sl := range free {
		if s.fed[sl] != nil {
			return i, 0
		}
	}
	return len(free) - 1, 0
}

// minKeep is the shortest shared prefix a new request resumes from: a few tokens save next to nothing
// and would take the slot whose cache a longer match (the same conversation's next turn) could use.
const minKeep = 4

// sharedPrefix is how many leading tokens a cache holding fed can keep for prompt: their common prefix,
// short of the prompt's last token (the decoder must be fed at least one to give logits).
func sharedPrefix(fed, prompt []int) int {
	n := max(0, min(len(fed), len(prompt)-1))
	for i := range n {
		if fed[i] != prompt[i] {
			return i
		}
	}
	return n
}
