package capture

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// maxChatExport bounds a chat export. Real exports of years of use reach a
// few hundred megabytes. It is a variable so that tests can lower it.
var maxChatExport int64 = 512 << 20

// Conversation is one conversation of a chat export, reduced to its text
// messages.
type Conversation struct {
	ID     string
	Title  string
	Source string // "chatgpt" or "claude"
	// Prompts are the messages the user sent.
	Prompts []ChatPrompt
	// Messages are the user's and the assistant's messages, in order: a prompt
	// worked out with a chatbot has both halves.
	Messages []ChatPrompt
}

// ChatPrompt is one text message.
type ChatPrompt struct {
	// Role is "user" or "assistant".
	Role      string
	MessageID string
	Text      string

	// Model is the model that answered, as the export names it; empty if
	// the export does not say (Claude exports never do).
	Model string

	// ClaimedTime is the time the export says the message was written.
	// It is the vendor's claim, not a verified time; zero if absent.
	ClaimedTime time.Time

	// SkippedParts counts content parts that are not text (images, files,
	// tool data), which Text does not include.
	SkippedParts int
}

// ReadChatExport reads a ChatGPT or Claude conversations.json (an array of
// conversations, or a single conversation object) and returns each
// conversation's user prompts. For ChatGPT it keeps the branch the user
// last saw: the path from the root to current_node.
func ReadChatExport(r io.Reader) ([]Conversation, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxChatExport+1))
	if err != nil {
		return nil, fmt.Errorf("reading chat export: %w", err)
	}
	if int64(len(data)) > maxChatExport {
		return nil, fmt.Errorf("chat export is larger than %d bytes", maxChatExport)
	}
	// encoding/json would silently turn invalid UTF-8 into U+FFFD, which
	// would change the evidence; refuse it instead.
	if !utf8.Valid(data) {
		off := firstInvalidUTF8(data)
		return nil, fmt.Errorf("chat export is not valid UTF-8: invalid byte %#02x at offset %d", data[off], off)
	}
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(t) == 0 {
		return nil, errors.New("chat export is empty")
	}
	var raws []json.RawMessage
	switch t[0] {
	case '[':
		if err := json.Unmarshal(t, &raws); err != nil {
			return nil, fmt.Errorf("chat export: %w", err)
		}
	case '{':
		raws = []json.RawMessage{t}
	default:
		return nil, fmt.Errorf("chat export is not a JSON array or object: starts with %q", t[0])
	}
	convs := make([]Conversation, 0, len(raws))
	for i, raw := range raws {
		var probe struct {
			Mapping      json.RawMessage `json:"mapping"`
			ChatMessages json.RawMessage `json:"chat_messages"`
		}
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, fmt.Errorf("chat export conversation %d: %w", i, err)
		}
		var c Conversation
		switch {
		case probe.Mapping != nil:
			c, err = readChatGPT(raw)
		case probe.ChatMessages != nil:
			c, err = readClaude(raw)
		default:
			err = errors.New("neither a ChatGPT conversation (no mapping) nor a Claude one (no chat_messages)")
		}
		if err != nil {
			return nil, fmt.Errorf("chat export conversation %d: %w", i, err)
		}
		convs = append(convs, c)
	}
	return convs, nil
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return 0
}

// SelectConversation returns the conversation whose ID, or else whose
// title, is key. The error lists the titles when none or several match.
func SelectConversation(convs []Conversation, key string) (*Conversation, error) {
	for i := range convs {
		if convs[i].ID == key {
			return &convs[i], nil
		}
	}
	var match []int
	for i := range convs {
		if convs[i].Title == key {
			match = append(match, i)
		}
	}
	if len(match) == 1 {
		return &convs[match[0]], nil
	}
	var list strings.Builder
	for _, c := range convs {
		fmt.Fprintf(&list, "\n  %s  %q", c.ID, c.Title)
	}
	if len(match) > 1 {
		return nil, fmt.Errorf("%d conversations are titled %q; choose one by ID:%s", len(match), key, list.String())
	}
	return nil, fmt.Errorf("no conversation has ID or title %q; the export holds:%s", key, list.String())
}

type chatGPTConversation struct {
	ID             string                 `json:"id"`
	ConversationID string                 `json:"conversation_id"`
	Title          string                 `json:"title"`
	CurrentNode    string                 `json:"current_node"`
	Mapping        map[string]chatGPTNode `json:"mapping"`
}

type chatGPTNode struct {
	Parent  *string         `json:"parent"`
	Message *chatGPTMessage `json:"message"`
}

type chatGPTMessage struct {
	ID     string `json:"id"`
	Author struct {
		Role string `json:"role"`
	} `json:"author"`
	CreateTime json.Number `json:"create_time"`
	Content    struct {
		Parts []json.RawMessage `json:"parts"`
	} `json:"content"`
	Metadata struct {
		ModelSlug string `json:"model_slug"`
	} `json:"metadata"`
}

func readChatGPT(raw json.RawMessage) (Conversation, error) {
	var cv chatGPTConversation
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&cv); err != nil {
		return Conversation{}, err
	}
	c := Conversation{ID: cv.ConversationID, Title: cv.Title, Source: "chatgpt"}
	if c.ID == "" {
		c.ID = cv.ID
	}
	if cv.CurrentNode == "" {
		return c, fmt.Errorf("conversation %q has no current_node, so the branch the user saw is unknown", c.ID)
	}
	// Walk from current_node to the root. A node cannot be visited twice,
	// so a parent cycle ends the walk with an error instead of a hang.
	var branch []*chatGPTMessage
	seen := map[string]bool{}
	for id := cv.CurrentNode; ; {
		if seen[id] {
			return c, fmt.Errorf("conversation %q: parent links loop at node %q", c.ID, id)
		}
		seen[id] = true
		n, ok := cv.Mapping[id]
		if !ok {
			return c, fmt.Errorf("conversation %q: node %q is not in mapping", c.ID, id)
		}
		if n.Message != nil {
			branch = append(branch, n.Message)
		}
		if n.Parent == nil || *n.Parent == "" {
			break
		}
		id = *n.Parent
	}
	slices.Reverse(branch)
	for i, msg := range branch {
		if msg.Author.Role != "user" && msg.Author.Role != "assistant" {
			continue
		}
		p := ChatPrompt{Role: msg.Author.Role, MessageID: msg.ID, Model: msg.Metadata.ModelSlug}
		var texts []string
		for _, part := range msg.Content.Parts {
			var s string
			if json.Unmarshal(part, &s) != nil {
				p.SkippedParts++
				continue
			}
			texts = append(texts, s)
		}
		p.Text = strings.Join(texts, "\n")
		if p.Text == "" {
			continue // context messages and attachments without text
		}
		// The model that answered a user: the nearest following assistant
		// message before the next user message.
		for _, next := range branch[i+1:] {
			if p.Role != "user" || next.Author.Role == "user" || p.Model != "" {
				break
			}
			if next.Author.Role == "assistant" {
				p.Model = next.Metadata.ModelSlug
			}
		}
		var err error
		if p.ClaimedTime, err = epochTime(msg.CreateTime); err != nil {
			return c, fmt.Errorf("conversation %q message %q: %w", c.ID, msg.ID, err)
		}
		c.add(p)
	}
	return c, nil
}

// add appends a message, and a user's to Prompts too.
func (c *Conversation) add(p ChatPrompt) {
	c.Messages = append(c.Messages, p)
	if p.Role == "user" {
		c.Prompts = append(c.Prompts, p)
	}
}

// epochTime converts seconds since 1970 written as a decimal number to a
// time, from the digits rather than through float64, so that the
// microseconds ChatGPT writes survive exactly.
func epochTime(n json.Number) (time.Time, error) {
	s := n.String()
	if s == "" {
		return time.Time{}, nil
	}
	sec, frac, _ := strings.Cut(s, ".")
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("create_time %q: %w", s, err)
		}
		return time.Unix(0, 0).Add(time.Duration(f * float64(time.Second))).UTC(), nil
	}
	secs, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || secs < 0 || secs > 1<<40 {
		return time.Time{}, fmt.Errorf("create_time %q is not a plausible epoch time", s)
	}
	if len(frac) > 9 {
		frac = frac[:9] // below a nanosecond: not representable
	}
	var nanos int64
	if frac != "" {
		if nanos, err = strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return time.Time{}, fmt.Errorf("create_time %q: %w", s, err)
		}
	}
	return time.Unix(secs, nanos).UTC(), nil
}

type claudeConversation struct {
	UUID         string          `json:"uuid"`
	Name         string          `json:"name"`
	ChatMessages []claudeMessage `json:"chat_messages"`
}

type claudeMessage struct {
	UUID      string `json:"uuid"`
	Sender    string `json:"sender"`
	Text      string `json:"text"`
	CreatedAt string `json:"created_at"`
	Content   []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	Attachments []json.RawMessage `json:"attachments"`
	Files       []json.RawMessage `json:"files"`
}

func readClaude(raw json.RawMessage) (Conversation, error) {
	var cv claudeConversation
	if err := json.Unmarshal(raw, &cv); err != nil {
		return Conversation{}, err
	}
	c := Conversation{ID: cv.UUID, Title: cv.Name, Source: "claude"}
	for _, msg := range cv.ChatMessages {
		role := map[string]string{"human": "user", "assistant": "assistant"}[msg.Sender]
		if role == "" {
			continue
		}
		p := ChatPrompt{Role: role, MessageID: msg.UUID, SkippedParts: len(msg.Attachments) + len(msg.Files)}
		// Newer exports hold the text in content blocks and may leave
		// text empty; older ones have only text.
		var texts []string
		for _, b := range msg.Content {
			if b.Type == "text" {
				texts = append(texts, b.Text)
			} else {
				p.SkippedParts++
			}
		}
		p.Text = strings.Join(texts, "\n")
		if p.Text == "" {
			p.Text = msg.Text
		}
		if p.Text == "" {
			continue
		}
		if msg.CreatedAt != "" {
			t, err := time.Parse(time.RFC3339Nano, msg.CreatedAt)
			if err != nil {
				return c, fmt.Errorf("conversation %q message %q: created_at: %w", c.ID, msg.UUID, err)
			}
			p.ClaimedTime = t
		}
		c.add(p)
	}
	return c, nil
}
