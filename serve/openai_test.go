package serve

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"tern/internal/testenv"
)

// TestOpenAIClient runs the official openai npm client (scripts/setup-refs.sh installs it into .refs)
// against the server: chat and completions, streamed and not, model listing, and errors that the
// client must turn into its typed exceptions (401, 400, 404). Skips without node or the package.
func TestOpenAIClient(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found; install Node.js and run scripts/setup-refs.sh")
	}
	refs := filepath.Join(testenv.ModuleRoot(t), ".refs", "node_modules")
	if _, err := os.Stat(filepath.Join(refs, "openai", "package.json")); err != nil {
		t.Skip("the openai package is not installed in .refs; run scripts/setup-refs.sh")
	}
	h, _ := newServer(t, 2, Options{APIKeys: []string{"sk-test-key-1"}})
	srv := httptest.NewServer(h)
	defer srv.Close()
	cmd := exec.Command("node", filepath.Join("testdata", "openai.cjs"))
	cmd.Env = append(os.Environ(), "NODE_PATH="+refs, "TERN_URL="+srv.URL+"/v1", "TERN_KEY=sk-test-key-1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var out struct {
		Chat struct {
			Object  string
			Choices []struct {
				Message      struct{ Role, Content string }
				FinishReason string `json:"finish_reason"`
			}
			Usage struct {
				CompletionTokens int `json:"completion_tokens"`
			}
		}
		ChatChunks []struct {
			Object  string
			Choices []struct {
				Delta struct {
					Role    string
					Content *string
				}
				FinishReason *string `json:"finish_reason"`
			}
			Usage *struct {
				CompletionTokens int `json:"completion_tokens"`
			}
		}
		Completion struct {
			Choices []struct {
				Text         string
				FinishReason string `json:"finish_reason"`
			}
		}
		CompletionChunks []struct {
			Choices []struct{ Text string }
		}
		Models struct {
			Data []struct{ ID string }
		}
		Errors []struct {
			Name, Class, Message string
			Status               int
		}
	}
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	if c := out.Chat; c.Object != "chat.completion" || len(c.Choices) != 1 || c.Choices[0].Message.Role != "assistant" ||
		c.Choices[0].Message.Content != script[:12] || c.Choices[0].FinishReason != "length" || c.Usage.CompletionTokens != 12 {
		t.Errorf("chat: %+v", c)
	}
	var text strings.Builder
	n := len(out.ChatChunks)
	if n < 3 || out.ChatChunks[0].Choices[0].Delta.Role != "assistant" || out.ChatChunks[n-1].Usage == nil || len(out.ChatChunks[n-1].Choices) != 0 ||
		out.ChatChunks[n-2].Choices[0].FinishReason == nil || *out.ChatChunks[n-2].Choices[0].FinishReason != "stop" {
		t.Errorf("chat stream: %s", b)
	}
	for _, c := range out.ChatChunks {
		if c.Object != "chat.completion.chunk" {
			t.Errorf("chunk object %q", c.Object)
		}
		if len(c.Choices) == 1 && c.Choices[0].Delta.Content != nil {
			text.WriteString(*c.Choices[0].Delta.Content)
		}
	}
	if want := script[:strings.Index(script, "STOP")]; text.String() != want {
		t.Errorf("chat stream text %q, want %q", text.String(), want)
	}
	if c := out.Completion; len(c.Choices) != 1 || c.Choices[0].Text != script[:12] || c.Choices[0].FinishReason != "length" {
		t.Errorf("completion: %+v", c)
	}
	text.Reset()
	for _, c := range out.CompletionChunks {
		text.WriteString(c.Choices[0].Text)
	}
	if text.String() != script[:12] {
		t.Errorf("completion stream text %q", text.String())
	}
	if len(out.Models.Data) != 1 || out.Models.Data[0].ID != "fake" {
		t.Errorf("models: %+v", out.Models)
	}
	want := map[string][2]any{"wrong key": {401, "AuthenticationError"}, "unknown role": {400, "BadRequestError"}, "unknown model": {404, "NotFoundError"}}
	if len(out.Errors) != len(want) {
		t.Fatalf("errors: %+v", out.Errors)
	}
	for _, e := range out.Errors {
		if w := want[e.Name]; e.Status != w[0] || e.Class != w[1] || e.Message == "" {
			t.Errorf("%s: %d %s %q, want %v", e.Name, e.Status, e.Class, e.Message, w)
		}
	}
}
