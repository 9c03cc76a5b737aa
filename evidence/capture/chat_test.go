package capture

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestChatGPTSample(t *testing.T) {
	needSamples(t)
	f, err := os.Open(samples + "chat/mitkury__example-conversation.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	convs, err := ReadChatExport(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 {
		t.Fatalf("%d conversations, want 1", len(convs))
	}
	c := convs[0]
	if c.ID != "conv-123" || c.Title != "Sample conversation with branch" || c.Source != "chatgpt" {
		t.Errorf("conversation = %q %q %q", c.ID, c.Title, c.Source)
	}
	// The branch ending at current_node msg-6 runs msg-1..msg-4, msg-6;
	// msg-5 ("Actually, can you help me with Python instead?") is on the
	// abandoned branch and must not appear.
	want := []ChatPrompt{
		{Role: "user", MessageID: "msg-2", Text: "Hello! Can you help me with a programming question?", Model: "gpt-4", ClaimedTime: time.Unix(1704067300, 0).UTC()},
		{Role: "user", MessageID: "msg-4", Text: "How do I write a function in JavaScript?", Model: "gpt-4", ClaimedTime: time.Unix(1704067400, 0).UTC()},
	}
	if len(c.Prompts) != len(want) {
		t.Fatalf("prompts = %+v, want %+v", c.Prompts, want)
	}
	for i := range want {
		if c.Prompts[i] != want[i] {
			t.Errorf("prompt %d = %+v, want %+v", i, c.Prompts[i], want[i])
		}
	}
	// Both halves of the conversation the user saw, in order: the
	// assistant's replies with the model that wrote them. The system
	// message (empty) and the abandoned branch are not there.
	var got []string
	for _, m := range c.Messages {
		got = append(got, m.Role+" "+m.MessageID+" "+m.Model)
	}
	if w := "user msg-2 gpt-4|assistant msg-3 gpt-4|user msg-4 gpt-4|assistant msg-6 gpt-4"; strings.Join(got, "|") != w {
		t.Errorf("messages %q, want %q", got, w)
	}
	if !strings.HasPrefix(c.Messages[3].Text, "Here's how to write a function in JavaScript:") || !c.Messages[3].ClaimedTime.Equal(time.Unix(1704067500, 0)) {
		t.Errorf("the assistant's reply %+v", c.Messages[3])
	}
	if got, err := SelectConversation(convs, "Sample conversation with branch"); err != nil || got.ID != "conv-123" {
		t.Errorf("select by title: %v, %v", got, err)
	}
	if _, err := SelectConversation(convs, "nope"); err == nil || !strings.Contains(err.Error(), `"Sample conversation with branch"`) {
		t.Errorf("select unknown: error %v does not list the titles", err)
	}
}

// A ChatGPT export with a multimodal part, a fractional create_time, a
// user message with its own model_slug, and two conversations sharing a
// title.
func TestChatGPTDetails(t *testing.T) {
	export := `[
{"id": "a", "title": "Logo", "current_node": "n3", "mapping": {
 "n1": {"parent": null, "message": {"id": "n1", "author": {"role": "user"}, "create_time": 1714000000.123456,
        "content": {"content_type": "multimodal_text", "parts": [{"content_type": "image_asset_pointer"}, "make it blue"]}, "metadata": {}}},
 "n2": {"parent": "n1", "message": {"id": "n2", "author": {"role": "assistant"}, "create_time": 1714000001, "content": {"parts": ["ok"]}, "metadata": {"model_slug": "gpt-4o"}}},
 "n3": {"parent": "n2", "message": {"id": "n3", "author": {"role": "user"}, "create_time": null, "content": {"parts": ["darker"]}, "metadata": {"model_slug": "o3"}}}}},
{"conversation_id": "b", "title": "Logo", "current_node": "m1", "mapping": {"m1": {"parent": null, "message": null}}}
]`
	convs, err := ReadChatExport(strings.NewReader(export))
	if err != nil {
		t.Fatal(err)
	}
	p := convs[0].Prompts
	if len(p) != 2 {
		t.Fatalf("prompts = %+v", p)
	}
	want0 := ChatPrompt{Role: "user", MessageID: "n1", Text: "make it blue", Model: "gpt-4o", ClaimedTime: time.Unix(1714000000, 123456000).UTC(), SkippedParts: 1}
	want1 := ChatPrompt{Role: "user", MessageID: "n3", Text: "darker", Model: "o3"}
	if p[0] != want0 || p[1] != want1 {
		t.Errorf("prompts = %+v, want %+v, %+v", p, want0, want1)
	}
	if convs[1].ID != "b" {
		t.Errorf("conversation_id not used: %q", convs[1].ID)
	}
	if _, err := SelectConversation(convs, "Logo"); err == nil || !strings.Contains(err.Error(), "2 conversations") {
		t.Errorf("ambiguous title: err = %v", err)
	}
	if c, err := SelectConversation(convs, "b"); err != nil || c.ID != "b" {
		t.Errorf("select by id: %v %v", c, err)
	}
}

func TestChatGPTBrokenTrees(t *testing.T) {
	for name, export := range map[string]string{
		"cycle":          `[{"id": "x", "current_node": "a", "mapping": {"a": {"parent": "b"}, "b": {"parent": "a"}}}]`,
		"missing parent": `[{"id": "x", "current_node": "a", "mapping": {"a": {"parent": "zz"}}}]`,
		"no current":     `[{"id": "x", "mapping": {"a": {"parent": null}}}]`,
	} {
		if _, err := ReadChatExport(strings.NewReader(export)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestClaudeExport(t *testing.T) {
	export := `[{"uuid": "c-1", "name": "Poster", "created_at": "2025-03-01T10:00:00Z", "chat_messages": [
 {"uuid": "m1", "sender": "human", "text": "Draft a poster headline", "content": [{"type": "text", "text": "Draft a poster headline"}], "created_at": "2025-03-01T10:00:01.250000+01:00", "attachments": [], "files": []},
 {"uuid": "m2", "sender": "assistant", "text": "Here are three.", "content": [{"type": "text", "text": "Here are three."}], "created_at": "2025-03-01T10:00:05Z"},
 {"uuid": "m3", "sender": "human", "text": "", "content": [{"type": "text", "text": "Shorter,"}, {"type": "image"}, {"type": "text", "text": "please"}], "created_at": "2025-03-01T10:01:00Z", "attachments": [{"file_name": "a.txt"}]}
]}]`
	convs, err := ReadChatExport(strings.NewReader(export))
	if err != nil {
		t.Fatal(err)
	}
	if len(convs) != 1 || convs[0].Source != "claude" || convs[0].ID != "c-1" || convs[0].Title != "Poster" {
		t.Fatalf("conversations = %+v", convs)
	}
	want := []ChatPrompt{
		{MessageID: "m1", Text: "Draft a poster headline", ClaimedTime: time.Date(2025, 3, 1, 9, 0, 1, 250000000, time.UTC)},
		{MessageID: "m3", Text: "Shorter,\nplease", ClaimedTime: time.Date(2025, 3, 1, 10, 1, 0, 0, time.UTC), SkippedParts: 2},
	}
	p := convs[0].Prompts
	if len(p) != 2 {
		t.Fatalf("prompts = %+v", p)
	}
	for i := range want {
		if p[i].MessageID != want[i].MessageID || p[i].Text != want[i].Text || !p[i].ClaimedTime.Equal(want[i].ClaimedTime) || p[i].SkippedParts != want[i].SkippedParts || p[i].Model != "" {
			t.Errorf("prompt %d = %+v, want %+v", i, p[i], want[i])
		}
	}
	if m := convs[0].Messages; len(m) != 3 || m[1].Role != "assistant" || m[1].Text != "Here are three." {
		t.Errorf("messages = %+v, want the assistant's reply between the prompts", m)
	}
}

func TestChatExportRejects(t *testing.T) {
	tests := map[string]string{
		"invalid UTF-8": "[{\"uuid\": \"x\", \"chat_messages\": [{\"sender\": \"human\", \"text\": \"caf\xe9\"}]}]",
		"not JSON":      "hello",
		"empty":         "  ",
		"unknown shape": `[{"foo": 1}]`,
		"bad time":      `[{"uuid": "x", "chat_messages": [{"sender": "human", "text": "a", "created_at": "yesterday"}]}]`,
	}
	for name, in := range tests {
		if _, err := ReadChatExport(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		} else if name == "invalid UTF-8" && !strings.Contains(err.Error(), "offset 65") {
			t.Errorf("%s: error %q does not give the offset", name, err)
		}
	}
	defer func(n int64) { maxChatExport = n }(maxChatExport)
	maxChatExport = 1000
	big := bytes.NewReader(make([]byte, maxChatExport+1))
	if _, err := ReadChatExport(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("oversized export: err = %v", err)
	}
}
